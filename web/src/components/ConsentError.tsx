// Back on /channels from a platform's consent page that did not connect (the merchant refused,
// the grant expired, the platform took the code back): /oauth/callback puts `oauth_error` and
// `message` in the query, and this says so. Connecting starts from the Add channel form
// (ConsentButton).
export function ConsentError() {
  const q = new URLSearchParams(window.location.search);
  const code = q.get('oauth_error');
  if (!code) return null;
  return (
    <div className="card banner-error" role="alert" data-testid="oauth-error">
      <strong>Connecting was not completed.</strong> The channel was not connected. {q.get('message') ?? 'The platform did not give its consent.'}{' '}
      <small>({code})</small>
    </div>
  );
}
