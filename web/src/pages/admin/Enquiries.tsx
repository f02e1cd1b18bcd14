// The operators' console: Enterprise enquiries from the landing page, newest first, filtered by
// status; an operator moves each along (new, contacted, won, lost) and notes what happened.
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, errorText, type QueryOf, type Schema } from '../../api.ts';
import { Badge, Empty, ErrorBox, Loading, PageHeader, when } from '../../ui.tsx';
import { ConsoleNav } from './ConsoleNav.tsx';

type Status = NonNullable<QueryOf<'/admin/enquiries'>['status']>;
const STATUSES: Status[] = ['new', 'contacted', 'won', 'lost'];

function EnquiryRow({ e }: { e: Schema<'Enquiry'> }) {
  const qc = useQueryClient();
  const [note, setNote] = useState(e.note ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const save = async (body: { status?: Status; note?: string | null }) => {
    setBusy(true);
    setError(null);
    try {
      await api.patch('/admin/enquiries/{id}', { path: { id: e.id }, body });
      await qc.invalidateQueries({ queryKey: ['admin', 'enquiries'] });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const saveNote = (ev: FormEvent) => {
    ev.preventDefault();
    void save({ note: note.trim() === '' ? null : note });
  };
  return (
    <li className="enquiry-row" data-testid="enquiry-row" data-status={e.status}>
      <div>
        <h3>
          {e.company} <Badge value={e.status} />
        </h3>
        <p>
          {e.name} · <a href={`mailto:${e.email}`}>{e.email}</a>
          {e.shops !== null && <> · {e.shops} shops</>} · <small>{when(e.created_at)}</small>
        </p>
        <p>{e.message}</p>
      </div>
      <form onSubmit={saveNote} aria-label={`Handle the enquiry from ${e.company}`}>
        <label>
          Status
          <select name="status" value={e.status} disabled={busy} onChange={(ev) => void save({ status: ev.target.value as Status })}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Note
          <textarea name="note" className="prose" rows={3} maxLength={5000} value={note} onChange={(ev) => setNote(ev.target.value)} />
        </label>
        <button type="submit" disabled={busy || note === (e.note ?? '')}>
          Save note
        </button>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </form>
    </li>
  );
}

export default function Enquiries() {
  const [status, setStatus] = useState<Status | ''>('');
  const q = useInfiniteQuery({
    queryKey: ['admin', 'enquiries', status],
    queryFn: ({ pageParam }) => api.get('/admin/enquiries', { query: { status: status || undefined, cursor: pageParam, limit: 50 } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (p) => p.next_cursor ?? undefined,
  });
  const rows = q.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <div>
      <PageHeader title="Enquiries" />
      <ConsoleNav />
      <div className="filters card">
        <label>
          Status
          <select name="status-filter" value={status} onChange={(ev) => setStatus(ev.target.value as Status | '')}>
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      {q.isPending ? (
        <Loading what="Loading enquiries" />
      ) : q.isError ? (
        <ErrorBox error={q.error} retry={() => q.refetch()} />
      ) : rows.length === 0 ? (
        <Empty>No enquiries here.</Empty>
      ) : (
        <ul className="plain card">
          {rows.map((e) => (
            <EnquiryRow key={`${e.id}:${e.updated_at}`} e={e} />
          ))}
        </ul>
      )}
      {q.hasNextPage && (
        <button onClick={() => q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          {q.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
    </div>
  );
}
