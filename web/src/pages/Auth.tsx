// Sign up and log in. Errors come back from the API in plain words (wrong password, email taken,
// weak password) and are shown beside the form.
import { useState, type FormEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { ApiError, api, errorText, setSession } from '../api.ts';

/** The API's password rules, checked before sending (the API checks them again). */
export function passwordProblem(p: string): string | null {
  if (p.length < 10) return 'Use at least 10 characters';
  if (!/[a-zA-Z]/.test(p) || !/[^a-zA-Z]/.test(p)) return 'Mix letters with digits or symbols';
  return null;
}

export function Login() {
  const [, navigate] = useLocation();
  const resetDone = new URLSearchParams(useSearch()).get('reset') === 'done';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.post('/auth/login', { body: { email, password } });
      setSession(r);
      navigate(takeAfterAuth() ?? '/');
    } catch (err) {
      setError(err instanceof ApiError && err.code === 'invalid_credentials' ? 'Wrong email or password.' : errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="auth">
      <form onSubmit={submit} className="card" aria-label="Log in">
        <h1>Log in to StockClerk</h1>
        {resetDone && <p className="ok-text">Your password is changed. Log in with the new one.</p>}
        <label>
          Email
          <input type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p>
          <Link href="/forgot-password">Forgot your password?</Link>
        </p>
        <p>
          New here? <Link href="/signup">Create an account</Link>
        </p>
      </form>
    </div>
  );
}

export function Signup() {
  const [, navigate] = useLocation();
  const [business, setBusiness] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const weak = passwordProblem(password);
    if (weak) return setError(`Password too weak: ${weak.toLowerCase()}.`);
    setBusy(true);
    try {
      const r = await api.post('/auth/register', { body: { business_name: business, email, password } });
      setSession(r);
      navigate(takeAfterAuth() ?? '/onboarding');
    } catch (err) {
      setError(err instanceof ApiError && err.code === 'email_taken' ? 'An account with this email already exists. Log in instead?' : errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="auth">
      <form onSubmit={submit} className="card" aria-label="Sign up">
        <h1>Create your StockClerk account</h1>
        <label>
          Business name
          <input name="business_name" required value={business} onChange={(e) => setBusiness(e.target.value)} />
        </label>
        <label>
          Email
          <input type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          <small>At least 10 characters, letters mixed with digits or symbols.</small>
        </label>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Sign up'}
        </button>
        <p>
          Already have an account? <Link href="/login">Log in</Link>
        </p>
      </form>
    </div>
  );
}

/** Where to go once signed in or up: an install in progress is kept across the sign-in pages. */
const AFTER_AUTH = 'sc.after_auth';
function takeAfterAuth(): string | null {
  const p = sessionStorage.getItem(AFTER_AUTH);
  sessionStorage.removeItem(AFTER_AUTH);
  return p && p.startsWith('/connect/') ? p : null;
}

/** A platform's install landed a signed-out merchant: sign in (or sign up), then back to the connect page. */
export function InstallSignIn() {
  const [loc] = useLocation();
  const search = useSearch();
  const failed = new URLSearchParams(search).get('install_error');
  if (failed) {
    return (
      <div className="auth">
        <section className="card" aria-label="Install">
          <h1>This install could not be started</h1>
          <p className="form-error" role="alert">
            {new URLSearchParams(search).get('message') ?? failed} Start the install again from the platform.
          </p>
        </section>
      </div>
    );
  }
  sessionStorage.setItem(AFTER_AUTH, `${loc}${search ? `?${search}` : ''}`);
  return (
    <div>
      <p className="notice" role="status">
        To finish installing StockClerk, log in or create an account: you come back here to connect.
      </p>
      <Login />
    </div>
  );
}
