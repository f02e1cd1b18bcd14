// Usage: this month's API calls, pushes and webhooks against the plan's quota (shown, not
// enforced yet), the projected month-end, and a chart per day. Any month can be looked back at.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Answer } from '../api.ts';
import { DailyChart } from '../components/Charts.tsx';
import { ErrorBox, Loading, PageHeader } from '../ui.tsx';

type Counter = 'api_calls' | 'pushes' | 'webhooks';
const COUNTERS: Array<[Counter, string, string]> = [
  ['api_calls', 'API calls', 'calls'],
  ['pushes', 'Pushes', 'listing updates pushed'],
  ['webhooks', 'Webhooks', 'channel webhooks'],
];

const thisMonth = () => new Date().toISOString().slice(0, 7);

function CounterCard({ u, counter, title }: { u: Answer<'/usage'>; counter: Counter; title: string }) {
  const used = u.totals[counter];
  const quota = u.quota[counter];
  const projected = u.projected[counter];
  const over = projected > quota;
  return (
    <section className="card" aria-label={title} data-testid={`usage-${counter}`}>
      <h2>{title}</h2>
      <p>
        <strong>{used.toLocaleString()}</strong> of {quota.toLocaleString()} ({u.percent_of_quota[counter]}%)
      </p>
      <progress max={quota} value={Math.min(used, quota)} aria-label={`${title} used of the monthly quota`} style={{ width: '100%' }} />
      <p className={over ? 'bad-text' : ''}>
        Projected by month end: {projected.toLocaleString()}
        {over ? ' — above the quota' : ''}
      </p>
    </section>
  );
}

export default function Usage() {
  const [month, setMonth] = useState(thisMonth());
  const [counter, setCounter] = useState<Counter>('api_calls');
  const usage = useQuery({ queryKey: ['usage', month], queryFn: () => api.get('/usage', { query: { month } }) });
  const unit = COUNTERS.find(([c]) => c === counter)![2];
  return (
    <div>
      <PageHeader title="Usage">
        <label>
          Month <input type="month" value={month} max={thisMonth()} onChange={(e) => e.target.value && setMonth(e.target.value)} />
        </label>
      </PageHeader>
      {usage.isPending ? (
        <Loading />
      ) : usage.isError ? (
        <ErrorBox error={usage.error} retry={() => usage.refetch()} />
      ) : (
        <>
          <p>
            <small>
              Your {usage.data.plan} plan&rsquo;s monthly quota. Quotas are shown for planning and are not enforced yet. The projection is the daily average so
              far times the days in the month.
            </small>
          </p>
          <div className="grid">
            {COUNTERS.map(([c, title]) => (
              <CounterCard key={c} u={usage.data} counter={c} title={title} />
            ))}
          </div>
          <section className="card" aria-label="Usage per day">
            <h2>
              Per day{' '}
              <select value={counter} onChange={(e) => setCounter(e.target.value as Counter)} aria-label="Counter" style={{ width: 'auto' }}>
                {COUNTERS.map(([c, title]) => (
                  <option key={c} value={c}>
                    {title}
                  </option>
                ))}
              </select>
            </h2>
            <DailyChart days={usage.data.days.map((d) => ({ day: d.day, value: d[counter] }))} label={`${unit} per day in ${month}`} unit={unit} />
          </section>
        </>
      )}
    </div>
  );
}
