// Where a platform's install lands the merchant (GET /install/{type} checked the platform's signed
// launch and sealed what it named into `install`): signed in, they name the channel and go on to
// the platform's consent page; it sends them back connected. Signed out, they sign in or sign up
// first and come back here (InstallSignIn, Auth.tsx). A launch that failed its check shows why.
import { useState } from 'react';
import { Link, useSearch } from 'wouter';
import { api, errorText } from '../api.ts';
import { useChannelTypes } from '../channel-types.ts';

export function Connect({ type }: { type: string }) {
  const q = new URLSearchParams(useSearch());
  const types = useChannelTypes();
  const label = types.data?.data.find((t) => t.type === type)?.label ?? type;
  const account = q.get('account');
  const [name, setName] = useState(account ? account.split('.')[0]! : label);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const install = q.get('install');
  if (q.get('install_error') || !install) {
    return (
      <section className="card" aria-label="Install">
        <h1>Connecting {label}</h1>
        <p className="form-error" role="alert">
          {q.get('message') ?? 'This page needs the install link the platform opened.'} Start the install again from {label}.
        </p>
        <Link href="/channels">Your channels</Link>
      </section>
    );
  }
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ authorize_url: string }>('POST', `/channels/oauth/${encodeURIComponent(type)}/start`, { name: name || label, install });
      window.location.assign(r.authorize_url);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-label="Install">
      <h1>Connect {label}</h1>
      <p>
        You are installing StockClerk on {label}
        {account ? (
          <>
            {' '}
            for <strong>{account}</strong>
          </>
        ) : null}
        . Name the channel, then agree on {label}; you come back here connected.
      </p>
      <label>
        Name
        <input name="name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button type="button" className="primary" onClick={go} disabled={busy}>
        {busy ? `Opening ${label}…` : `Connect with ${label}`}
      </button>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
