// The team: who is in this account with which role, who is invited, and inviting someone.
// Admins and owners see this page; only owners make owners or change an owner (the API says so
// in words when someone tries, and the page shows it).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, errorText, type Schema } from '../api.ts';
import { useCan, useMe } from '../hooks.ts';
import { Badge, Empty, ErrorBox, Loading, PageHeader, timeAgo, when } from '../ui.tsx';

type Role = Schema<'User'>['role'];
const ROLES: Array<[Role, string]> = [
  ['viewer', 'Viewer: sees everything, changes nothing'],
  ['editor', 'Editor: stock, items, listings and orders'],
  ['admin', 'Admin: everything but billing and ownership'],
  ['owner', 'Owner: everything'],
];

function InviteForm() {
  const qc = useQueryClient();
  const isOwner = useCan('owner');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('editor');
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const inv = await api.post('/invitations', { body: { email, role } });
      setDone(`Invitation mailed to ${inv.email}. The link works for 7 days.`);
      setEmail('');
      await qc.invalidateQueries({ queryKey: ['invitations'] });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Invite someone">
      <h2>Invite someone</h2>
      <div className="filters">
        <label className="wide">
          Email
          <input type="email" name="invite_email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label className="role-pick">
          Role
          <select name="invite_role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.filter(([r]) => r !== 'owner' || isOwner).map(([r, label]) => (
              <option key={r} value={r}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Inviting…' : 'Invite'}
        </button>
      </div>
      {done && (
        <p className="ok-text" role="status">
          {done}
        </p>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function MemberRow({ user, me }: { user: Schema<'User'>; me: string | undefined }) {
  const qc = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      await qc.invalidateQueries({ queryKey: ['users'] });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const self = user.id === me;
  return (
    <tr data-testid="member" data-email={user.email}>
      <td>
        {user.email} {self && <Badge value="you" />}
      </td>
      <td>
        <select
          aria-label={`Role of ${user.email}`}
          value={user.role}
          disabled={busy || self}
          onChange={(e) => act(() => api.patch('/users/{id}', { path: { id: user.id }, body: { role: e.target.value as Role } }))}
        >
          {ROLES.map(([r]) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </td>
      <td>{timeAgo(user.created_at)}</td>
      <td>
        {!self && (
          <button
            disabled={busy}
            onClick={() => confirm(`Remove ${user.email}? They are logged out at once.`) && act(() => api.delete('/users/{id}', { path: { id: user.id } }))}
          >
            Remove
          </button>
        )}
        {error && <small className="form-error">{error}</small>}
      </td>
    </tr>
  );
}

export default function Team() {
  const qc = useQueryClient();
  const me = useMe();
  const users = useQuery({ queryKey: ['users'], queryFn: () => api.get('/users', { query: { limit: 200 } }) });
  const invitations = useQuery({ queryKey: ['invitations'], queryFn: () => api.get('/invitations', { query: { limit: 200 } }) });
  const [error, setError] = useState<string | null>(null);
  const withdraw = async (id: string) => {
    setError(null);
    try {
      await api.delete('/invitations/{id}', { path: { id } });
      await qc.invalidateQueries({ queryKey: ['invitations'] });
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <div>
      <PageHeader title="Team" />
      <InviteForm />
      <section className="card">
        <h2>Members</h2>
        {users.isPending ? (
          <Loading what="Loading the team" />
        ) : users.isError ? (
          <ErrorBox error={users.error} retry={() => void users.refetch()} />
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Email</th>
                  <th>Role</th>
                  <th>Joined</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {users.data.data.map((u) => (
                  <MemberRow key={u.id} user={u} me={me.data?.user?.id} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card">
        <h2>Invited</h2>
        {error && <p className="form-error">{error}</p>}
        {invitations.isPending ? (
          <Loading what="Loading invitations" />
        ) : invitations.isError ? (
          <ErrorBox error={invitations.error} retry={() => void invitations.refetch()} />
        ) : invitations.data.data.length === 0 ? (
          <Empty>No pending invitations.</Empty>
        ) : (
          <ul className="stack plain">
            {invitations.data.data.map((i) => (
              <li key={i.id} className="alert-row" data-testid="invitation" data-email={i.email}>
                <span>
                  {i.email} <Badge value={i.role} /> <small>expires {when(i.expires_at)}</small>
                </span>
                <button onClick={() => void withdraw(i.id)}>Withdraw</button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
