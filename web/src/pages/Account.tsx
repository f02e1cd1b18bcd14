// The pages a mailed link opens, and the one that asks for a reset link: forgot password, reset
// password, accept an invitation, verify an address. The token comes in the link's query string;
// a used or expired link says so in words and offers the way forward.
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { ApiError, api, errorText, setSession } from '../api.ts';
import { passwordProblem } from './Auth.tsx';

const useToken = () => new URLSearchParams(useSearch()).get('token') ?? '';

const linkProblem = (err: unknown, ask: ReactNode) =>
  err instanceof ApiError && err.code === 'invalid_token' ? (
    <>This link no longer works: it was used, it expired, or a newer mail replaced it. {ask}</>
  ) : (
    errorText(err)
  );

function Page({ label, title, children }: { label: string; title: string; children: ReactNode }) {
  return (
    <div className="auth">
      <div className="card stack" aria-label={label} role="region">
        <h1>{title}</h1>
        {children}
      </div>
    </div>
  );
}

function ErrorLine({ error }: { error: ReactNode }) {
  return error ? (
    <p className="form-error" role="alert">
      {error}
    </p>
  ) : null;
}

export function ForgotPassword() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/auth/password-reset', { body: { email } });
      setSent(true);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  if (sent)
    return (
      <Page label="Reset link sent" title="Check your mail">
        <p data-testid="reset-sent">
          If <strong>{email}</strong> has a StockClerk account, a link to choose a new password is on its way. It works for an hour.
        </p>
        <p>
          <Link href="/login">Back to log in</Link>
        </p>
      </Page>
    );
  return (
    <div className="auth">
      <form onSubmit={submit} className="card" aria-label="Forgot password">
        <h1>Forgot your password?</h1>
        <p>We will mail you a link to choose a new one.</p>
        <label>
          Email
          <input type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <ErrorLine error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Sending…' : 'Mail me a link'}
        </button>
        <p>
          <Link href="/login">Back to log in</Link>
        </p>
      </form>
    </div>
  );
}

export function ResetPassword() {
  const token = useToken();
  const [, navigate] = useLocation();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ReactNode>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const weak = passwordProblem(password);
    if (weak) return setError(`Password too weak: ${weak.toLowerCase()}.`);
    setBusy(true);
    setError(null);
    try {
      await api.post('/auth/password-reset/confirm', { body: { token, password } });
      // Every session of the account ended, this browser's too.
      setSession(null);
      navigate('/login?reset=done');
    } catch (err) {
      setError(linkProblem(err, <Link href="/forgot-password">Ask for a new link.</Link>));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="auth">
      <form onSubmit={submit} className="card" aria-label="Choose a new password">
        <h1>Choose a new password</h1>
        <p>Every device logged in to this account will be logged out.</p>
        <label>
          New password
          <input type="password" name="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          <small>At least 10 characters, letters mixed with digits or symbols.</small>
        </label>
        <ErrorLine error={error} />
        <button type="submit" className="primary" disabled={busy || !token}>
          {busy ? 'Saving…' : 'Set the new password'}
        </button>
      </form>
    </div>
  );
}

export function AcceptInvitation() {
  const token = useToken();
  const [, navigate] = useLocation();
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ReactNode>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const weak = passwordProblem(password);
    if (weak) return setError(`Password too weak: ${weak.toLowerCase()}.`);
    setBusy(true);
    setError(null);
    try {
      const r = await api.post('/invitations/accept', { body: { token, password } });
      setSession(r);
      navigate('/');
    } catch (err) {
      setError(
        err instanceof ApiError && err.code === 'email_taken'
          ? 'This address already has a StockClerk account: log in with it, and ask whoever invited you to invite another address.'
          : linkProblem(err, 'Ask whoever invited you to send a new invitation.'),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="auth">
      <form onSubmit={submit} className="card" aria-label="Accept the invitation">
        <h1>Join your team on StockClerk</h1>
        <p>Choose a password to accept the invitation.</p>
        <label>
          Password
          <input type="password" name="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          <small>At least 10 characters, letters mixed with digits or symbols.</small>
        </label>
        <ErrorLine error={error} />
        <button type="submit" className="primary" disabled={busy || !token}>
          {busy ? 'Joining…' : 'Accept and log in'}
        </button>
      </form>
    </div>
  );
}

export function VerifyEmail() {
  const token = useToken();
  const qc = useQueryClient();
  const [state, setState] = useState<'idle' | 'busy' | 'done'>('idle');
  const [error, setError] = useState<ReactNode>(null);
  const confirm = async () => {
    setState('busy');
    setError(null);
    try {
      await api.post('/auth/verify-email', { body: { token } });
      setState('done');
      await qc.invalidateQueries({ queryKey: ['me'] });
    } catch (err) {
      setState('idle');
      setError(linkProblem(err, 'Log in and ask for a new one under Settings.'));
    }
  };
  // A button, not an automatic call on load: mail scanners that open links must not use them up.
  return (
    <Page label="Confirm your address" title="Confirm your email address">
      {state === 'done' ? (
        <p data-testid="email-verified">
          Your address is confirmed: alert emails will reach it. <Link href="/">Open StockClerk</Link>
        </p>
      ) : (
        <>
          <p>Confirm this address to receive StockClerk alerts by email.</p>
          <ErrorLine error={error} />
          <button className="primary" onClick={confirm} disabled={state === 'busy' || !token}>
            {state === 'busy' ? 'Confirming…' : 'Confirm my address'}
          </button>
        </>
      )}
    </Page>
  );
}
