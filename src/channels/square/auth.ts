// Connecting a Square seller by consent (Square's OAuth code flow): StockClerk's application
// (client_id = OAuthApp.clientId, the application secret = clientSecret) sends the seller to
// Square's authorize page with the permissions it needs; Square sends them back to the redirect URL
// registered for the application with `code` and `state`; the code is exchanged with
// POST /oauth2/token (grant_type authorization_code) for an access token (30 days) and a refresh
// token, renewed later with grant_type refresh_token (client.ts). The channel keeps the app's keys
// beside the pair so the adapter can renew it.
// GUESS: redirect_uri is left out of the authorize link and the exchange: Square uses the one
// registered for the application when none is sent.
// The webhook subscription's signature key is the application's (Developer Console), not the
// seller's: configured as OAUTH_SQUARE_WEBHOOK_KEY, it is given to every channel connected by
// consent (without it, notifications fail verification and the counts poll carries the sales).
// Installs from the Square App Marketplace: "Get started" opens the app's URL (GET /install/square)
// with nothing signed (GUESS: Square documents no launch parameters), so the launch names no
// account and proves nothing; it only brings the merchant to the connect page, and the consent
// that follows is what connects. A seller revoking the app sends oauth.authorization.revoked
// (webhook.ts: the channel is disconnected).
import { trimBase } from '../adapter-kit.ts';
import type { OAuthFlow } from '../contract.ts';
import { obtainToken } from './client.ts';

/** What StockClerk reads and writes: the catalog (skus), the counts, and the locations. */
export const SQUARE_SCOPES = ['ITEMS_READ', 'INVENTORY_READ', 'INVENTORY_WRITE', 'MERCHANT_PROFILE_READ'];

export function authorizeUrl(authorizeBase: string, clientId: string, state: string): string {
  // Square separates permissions with '+' (a space, form-encoded).
  const q = new URLSearchParams({ client_id: clientId, scope: SQUARE_SCOPES.join(' '), session: 'false', state });
  return `${trimBase(authorizeBase)}/oauth2/authorize?${q.toString()}`;
}

export const squareOAuth: OAuthFlow = {
  // The seller's account: the token response names it (merchant_id), the same on every grant.
  accountOf: (credentials) => credentials.merchant_id || null,
  defaultAuthorizeBase: 'https://connect.squareup.com',
  pkce: false,
  verifyLaunch: () => ({ account: null }),
  authorizeUrl: ({ authorizeBase, app, state }) => authorizeUrl(authorizeBase, app.clientId, state),
  exchange: async ({ baseUrl, app, code }) => {
    const t = await obtainToken(baseUrl, { client_id: app.clientId, client_secret: app.clientSecret, grant_type: 'authorization_code', code });
    return {
      credentials: {
        access_token: t.access_token,
        refresh_token: t.refresh_token,
        access_expires_at: t.access_expires_at,
        client_id: app.clientId,
        client_secret: app.clientSecret,
        merchant_id: t.merchant_id,
        ...(app.webhookKey ? { webhook_signature_key: app.webhookKey } : {}),
      },
    };
  },
};
