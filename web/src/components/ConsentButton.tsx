// Connect (or reconnect) a platform account by consent: asks the API where to send the merchant
// (POST /channels/oauth/{type}/start) and goes there. The platform sends them back to
// /oauth/callback/{type}, which lands on the channel (?connected=1) or on /channels with the
// reason (?oauth_error&message). Which types can do this comes from GET /channel-types (oauth).
import { useState } from 'react';
import { api, errorText } from '../api.ts';

export function ConsentButton({ type, text, body }: { type: string; text: string; body: Record<string, unknown> }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ authorize_url: string }>('POST', `/channels/oauth/${encodeURIComponent(type)}/start`, body);
      window.location.assign(r.authorize_url);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="primary" onClick={go} disabled={busy}>
        {busy ? 'Opening the platform…' : text}
      </button>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}

/** What the consent callback said when it sent the merchant back here (null when it did not). */
export function consentOutcome(): { ok: true } | { ok: false; message: string } | null {
  const q = new URLSearchParams(window.location.search);
  if (q.get('connected') === '1') return { ok: true };
  if (q.get('oauth_error')) return { ok: false, message: q.get('message') ?? q.get('oauth_error')! };
  return null;
}
