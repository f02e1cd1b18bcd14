// The logged-in user's own settings: their address (and confirming it), which alert emails they
// get, and their password.
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, errorText } from '../api.ts';
import { useMe } from '../hooks.ts';
import { ErrorBox, Loading, PageHeader } from '../ui.tsx';
import { passwordProblem } from './Auth.tsx';

type AlertEmail = 'each' | 'digest' | 'off';
const CHOICES: Array<[AlertEmail, string]> = [
  ['each', 'Each alert, as it happens'],
  ['digest', 'One digest a day'],
  ['off', 'No alert emails'],
];

export function ResendVerification() {
  const [state, setState] = useState<'idle' | 'busy' | 'sent'>('idle');
  const [error, setError] = useState<string | null>(null);
  const send = async () => {
    setState('busy');
    setError(null);
    try {
      await api.post('/auth/verify-email/resend');
      setState('sent');
    } catch (err) {
      setState('idle');
      setError(errorText(err));
    }
  };
  if (state === 'sent') return <span className="ok-text">Sent: check your mail.</span>;
  return (
    <>
      <button className="link" onClick={send} disabled={state === 'busy'}>
        Mail me a new link
      </button>
      {error && <small className="form-error"> {error}</small>}
    </>
  );
}

function AlertEmails({ current }: { current: AlertEmail }) {
  const qc = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const choose = async (alert_email: AlertEmail) => {
    setError(null);
    try {
      const me = await api.patch('/me', { body: { alert_email } });
      qc.setQueryData(['me'], me);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <fieldset className="stack" aria-label="Alert emails">
      {CHOICES.map(([value, label]) => (
        <label key={value} className="row">
          <input type="radio" name="alert_email" value={value} checked={current === value} onChange={() => void choose(value)} />
          {label}
        </label>
      ))}
      {error && <p className="form-error">{error}</p>}
    </fieldset>
  );
}

function ChangePassword() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    const weak = passwordProblem(next);
    if (weak) return setError(`Password too weak: ${weak.toLowerCase()}.`);
    setBusy(true);
    setError(null);
    try {
      await api.post('/me/password', { body: { current_password: current, new_password: next } });
      setDone(true);
      setCurrent('');
      setNext('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="stack" aria-label="Change password">
      <label>
        Current password
        <input type="password" name="current_password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
      </label>
      <label>
        New password
        <input type="password" name="new_password" autoComplete="new-password" required value={next} onChange={(e) => setNext(e.target.value)} />
        <small>Your other devices will be logged out.</small>
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {done && <p className="ok-text">Password changed; your other sessions are logged out.</p>}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Saving…' : 'Change password'}
      </button>
    </form>
  );
}

export default function Settings() {
  const me = useMe();
  if (me.isPending) return <Loading />;
  if (me.isError) return <ErrorBox error={me.error} retry={() => void me.refetch()} />;
  const user = me.data.user;
  if (!user) return <p>An API key has no settings.</p>;
  return (
    <div>
      <PageHeader title="Settings" />
      <section className="card stack">
        <h2>Your account</h2>
        <p>
          {user.email} · {user.role} ·{' '}
          {user.email_verified ? (
            <span className="ok-text">address confirmed</span>
          ) : (
            <>
              <span className="warn-text">address not confirmed</span> <ResendVerification />
            </>
          )}
        </p>
      </section>
      <section className="card">
        <h2>Alert emails</h2>
        {!user.email_verified && <p className="warn-text">Alert emails go to confirmed addresses only.</p>}
        <AlertEmails current={user.alert_email} />
      </section>
      <section className="card">
        <h2>Password</h2>
        <ChangePassword />
      </section>
    </div>
  );
}
