// What a dry run answers, readably: first what the channels would refuse as the products stand
// (nothing is planned for those), then what the run costs against each channel's rate budget, then
// every request in order (method, URL, label, an image upload's source, the JSON body folded away).
import type { DryRun } from '../publishing.ts';

export function PublishPreview({ dry, channelName }: { dry: DryRun; channelName: (id: string) => string }) {
  const total = dry.requests_total ?? dry.requests.length;
  return (
    <div className="publish-preview" data-testid="publish-preview">
      {dry.problems.length > 0 && (
        <div className="card warning" role="alert" data-testid="publish-problems">
          <strong>
            {dry.problems.length === 1 ? 'One thing to fix' : `${dry.problems.length} things to fix`} before publishing (nothing is planned for these):
          </strong>
          <ul>
            {dry.problems.map((p, i) => (
              <li key={i} data-testid="publish-problem">
                <b>{channelName(p.channel_id)}</b>: {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <table className="cost" data-testid="publish-cost">
        <thead>
          <tr>
            <th>Channel</th>
            <th className="num">API calls</th>
            <th className="num">Budget now</th>
            <th className="num">Time at budget</th>
          </tr>
        </thead>
        <tbody>
          {dry.channels.map((c) => (
            <tr key={c.channel_id} data-testid="publish-cost-row">
              <td>{channelName(c.channel_id)}</td>
              <td className="num">{c.api_calls}</td>
              <td className="num" title={`${c.per_second} calls a second, bursts of ${c.burst}`}>
                {c.available_now} of {c.burst}
              </td>
              <td className="num">{c.seconds_at_budget} s</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small">
        {total === 0
          ? 'Nothing would be sent.'
          : `${total} ${total === 1 ? 'request' : 'requests'} would be sent${total > dry.requests.length ? ` (the first ${dry.requests.length} below)` : ''}. Nothing has been sent.`}{' '}
        <code>{'{{name}}'}</code> stands for a value an earlier answer gives.
      </p>
      <ol className="planned" data-testid="planned-requests">
        {dry.requests.map((r, i) => (
          <li key={i} data-testid="planned-request">
            <div className="line">
              <code className="method">{r.method}</code> <span className="url">{r.url}</span>
            </div>
            <small>
              {channelName(r.channel_id)} · {r.label}
              {r.upload && (
                <>
                  {' '}
                  · uploads <code>{r.upload.imageUrl}</code> ({r.upload.contentType}) as <code>{r.upload.field}</code>
                </>
              )}
            </small>
            {r.body !== undefined && r.body !== null && (
              <details>
                <summary>Body</summary>
                <pre>{typeof r.body === 'string' ? r.body : JSON.stringify(r.body, null, 2)}</pre>
              </details>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}
