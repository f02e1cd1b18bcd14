// One tenant in the console: its figures, channels, users and recent audit entries, and what an
// operator can do about it: pause or resume all of its sync (with a reason, audited), set its plan,
// or look at its dashboard as its users do (impersonation: 15 minutes, read-only by default).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { api, errorText, startImpersonating, type BodyOf } from '../../api.ts';
import { Badge, ErrorBox, Loading, PageHeader, timeAgo, when } from '../../ui.tsx';
import { ConsoleNav, duration, percent } from './ConsoleNav.tsx';

type Plan = BodyOf<'/admin/tenants/{id}/plan', 'post'>['plan'];

function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

function PauseControl({ id, paused, reason }: { id: string; paused: boolean; reason: string | null }) {
  const qc = useQueryClient();
  const [why, setWhy] = useState('');
  const a = useAction();
  const done = () => qc.invalidateQueries({ queryKey: ['admin'] });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void a.run(async () => {
      if (paused) await api.post('/admin/tenants/{id}/resume', { path: { id }, body: {} });
      else await api.post('/admin/tenants/{id}/pause', { path: { id }, body: { reason: why } });
      setWhy('');
      await done();
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Pause or resume sync">
      <h2>Sync</h2>
      {paused ? (
        <p className="warn-text" data-testid="paused-note">
          Paused: {reason}. Its jobs wait; sales arriving by webhook are still recorded.
        </p>
      ) : (
        <label className="wide">
          Reason for pausing
          <input name="pause_reason" required minLength={1} value={why} onChange={(e) => setWhy(e.target.value)} />
        </label>
      )}
      <button type="submit" className={paused ? 'primary' : 'danger'} disabled={a.busy}>
        {paused ? 'Resume sync' : 'Pause all sync'}
      </button>
      {a.error && (
        <p className="form-error" role="alert">
          {a.error}
        </p>
      )}
    </form>
  );
}

function PlanControl({ id, plan, limit }: { id: string; plan: string; limit: number | null }) {
  const qc = useQueryClient();
  const [next, setNext] = useState<Plan>((plan as Plan) ?? 'trial');
  const [shops, setShops] = useState(limit === null ? '' : String(limit));
  const a = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void a.run(async () => {
      await api.post('/admin/tenants/{id}/plan', { path: { id }, body: { plan: next, shop_limit: next === 'enterprise' && shops ? Number(shops) : null } });
      await qc.invalidateQueries({ queryKey: ['admin'] });
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Plan">
      <h2>Plan</h2>
      <div className="filters">
        <label>
          Plan
          <select name="plan" value={next} onChange={(e) => setNext(e.target.value as Plan)}>
            {(['trial', 'starter', 'growth', 'enterprise'] as const).map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        {next === 'enterprise' && (
          <label>
            Shops allowed (empty: no limit)
            <input name="shop_limit" type="number" min={0} value={shops} onChange={(e) => setShops(e.target.value)} />
          </label>
        )}
        <button type="submit" disabled={a.busy}>
          Set plan
        </button>
      </div>
      {a.error && (
        <p className="form-error" role="alert">
          {a.error}
        </p>
      )}
    </form>
  );
}

function ImpersonateControl({ id }: { id: string }) {
  const [reason, setReason] = useState('');
  const [write, setWrite] = useState(false);
  const a = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void a.run(async () => {
      const out = await api.post('/admin/tenants/{id}/impersonate', { path: { id }, body: { reason, read_only: !write } });
      startImpersonating(out.token, `/admin/tenants/${id}`);
    });
  };
  return (
    <form className="card" onSubmit={submit} aria-label="View as the merchant">
      <h2>View as the merchant</h2>
      <p className="muted">15 minutes. The merchant sees a banner and can end it; every page you open is in their audit log and yours.</p>
      <label className="wide">
        Why (the merchant sees this)
        <input name="impersonate_reason" required minLength={3} value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      <label className="row">
        <input type="checkbox" name="impersonate_write" checked={write} onChange={(e) => setWrite(e.target.checked)} /> Allow stock and item changes
      </label>
      <button type="submit" className="primary" disabled={a.busy}>
        {write ? 'View and edit as the merchant' : 'View as the merchant (read-only)'}
      </button>
      {a.error && (
        <p className="form-error" role="alert">
          {a.error}
        </p>
      )}
    </form>
  );
}

export default function TenantDetail({ id }: { id: string }) {
  const q = useQuery({ queryKey: ['admin', 'tenant', id], queryFn: () => api.get('/admin/tenants/{id}', { path: { id } }), refetchInterval: 10_000 });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} retry={() => void q.refetch()} />;
  const t = q.data;
  return (
    <>
      <PageHeader title={t.name}>
        <Link href="/admin">← All tenants</Link>
      </PageHeader>
      <ConsoleNav />
      <div className="cards">
        <div className="card">
          <h3>Plan</h3>
          <p className="big">{t.plan}</p>
          <p className="muted">
            {t.billing_status.replace('_', ' ')} · trial ends {when(t.trial_ends_at)}
          </p>
        </div>
        <div className="card">
          <h3>Shops</h3>
          <p className="big">
            {t.shops_used} / {t.shop_limit ?? '∞'}
          </p>
          <p className="muted">{t.items} items</p>
        </div>
        <div className="card">
          <h3>Last 24 h</h3>
          <p className="big">{t.pushes_24h} pushes</p>
          <p className="muted">
            {t.webhooks_24h} webhooks · {t.api_calls_24h} API calls · failures {percent(t.push_failure_rate)}
          </p>
        </div>
        <div className="card">
          <h3>Queue</h3>
          <p className="big">{t.jobs_waiting} waiting</p>
          <p className={t.jobs_dead > 0 ? 'bad-text' : 'muted'}>
            lag {duration(t.queue_lag_s)} · {t.jobs_dead} dead · <Link href={`/admin/sync?tenant=${t.id}`}>monitor</Link>
          </p>
        </div>
      </div>
      <div className="grid">
        <PauseControl id={t.id} paused={t.sync_paused} reason={t.sync_paused_reason} />
        <PlanControl id={t.id} plan={t.plan} limit={t.shop_limit} />
        <ImpersonateControl id={t.id} />
      </div>
      <div className="card table-wrap">
        <h2>Channels</h2>
        <table>
          <thead>
            <tr>
              <th>Channel</th>
              <th>Status</th>
              <th className="num">Listings</th>
              <th>Last push</th>
              <th>Last event</th>
            </tr>
          </thead>
          <tbody>
            {t.channels.map((c) => (
              <tr key={c.id}>
                <td>
                  {c.name} <span className="muted">({c.type})</span>
                </td>
                <td>
                  <Badge value={c.status} />
                </td>
                <td className="num">{c.listings}</td>
                <td>{c.last_push_outcome ? <Badge value={c.last_push_outcome} /> : '—'}</td>
                <td>{timeAgo(c.last_event_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="grid">
        <div className="card">
          <h2>Users</h2>
          <ul>
            {t.users.map((u) => (
              <li key={u.id}>
                {u.email} <Badge value={u.role} />
              </li>
            ))}
          </ul>
        </div>
        <div className="card" style={{ gridColumn: 'span 2' }}>
          <h2>Recent audit</h2>
          <ul data-testid="recent-audit">
            {t.recent_audit.map((e) => (
              <li key={e.id}>
                <span className="muted">{timeAgo(e.created_at)}</span> {e.action} <span className="muted">by {e.actor_type}</span>
              </li>
            ))}
          </ul>
        </div>
      </div>
    </>
  );
}
