// Connecting a platform account by consent (OAuth authorisation code, PKCE where the platform
// wants it). The state that travels through the platform is sealed (AES-GCM, src/db/crypto.ts):
// it names the tenant, the user, the channel's name and settings and holds the PKCE verifier,
// so nothing is stored until the merchant comes back, a forged or altered state opens to nothing,
// and the verifier never appears in a URL. It expires after ten minutes.
// Consent also reconnects: started for an existing channel (channel_id), the new tokens replace
// the refused ones on that channel instead of creating another.
import { createHash, randomBytes } from 'node:crypto';
import type { OAuthApp, OAuthFlow } from '../channels/contract.ts';
import { channelModule } from '../channels/registry.ts';
import type { OAuthAppConfig } from '../config.ts';
import type { Sealer } from '../db/crypto.ts';
import type { Tx } from '../db/pool.ts';
import { AppError } from '../domain/errors.ts';
import { assertShopAvailable } from './billing.ts';
import { create, get, reconnect, type ChannelView } from './channels.ts';
import type { Q, Scope } from './scope.ts';

export const STATE_TTL_MS = 10 * 60_000;

interface SealedState {
  /** Marks the sealed value as an OAuth state (a sealed credential blob is not one). */
  kind: 'oauth';
  tenantId: string;
  userId: string;
  type: string;
  name: string;
  settings: Record<string, unknown>;
  /** Set when reconnecting an existing channel (absent in states sealed before reconnecting existed). */
  channelId?: string | null;
  /** The merchant account on a platform with a host per account (OAuthFlow.account). */
  account?: string | null;
  /** What the platform's signed install launch handed on (verifyLaunch), for the exchange. */
  launch?: Record<string, string> | null;
  verifier: string | null;
  exp: number;
}

export interface ConnectApp {
  flow: OAuthFlow;
  app: OAuthApp;
  apiBase: string;
  authorizeBase: string;
}

/** The type's flow and StockClerk's app on it, or a 4xx saying why this type cannot be connected by consent. */
export function connectApp(type: string, apps: Record<string, OAuthAppConfig>, publicUrl: string | null): ConnectApp {
  const mod = channelModule(type);
  if (!mod) throw new AppError(404, 'not_found', `No channel type ${type}`);
  if (!mod.oauth) throw new AppError(400, 'oauth_not_supported', `${mod.label} is connected with its API keys (POST /channels), not by consent`);
  const cfg = apps[type];
  if (!cfg) {
    throw new AppError(409, 'oauth_not_configured', `No ${mod.label} application is configured: set OAUTH_${type.toUpperCase()}_CLIENT_ID and _CLIENT_SECRET`);
  }
  if (mod.oauth.redirectIsName && !cfg.redirectUri) {
    throw new AppError(409, 'oauth_not_configured', `Set OAUTH_${type.toUpperCase()}_REDIRECT_URI to the name ${mod.label} knows StockClerk's callback URL by`);
  }
  const redirectUri = cfg.redirectUri ?? (publicUrl ? `${publicUrl}/oauth/callback/${type}` : null);
  if (!redirectUri) throw new AppError(409, 'oauth_not_configured', 'Set PUBLIC_URL (or the redirect URI) so the platform can send the merchant back');
  const apiBase = cfg.apiBase ?? mod.defaultBaseUrl ?? mod.oauth.defaultApiBase ?? null;
  if (!apiBase) throw new AppError(409, 'oauth_not_configured', `Set OAUTH_${type.toUpperCase()}_API_BASE`);
  return {
    flow: mod.oauth,
    app: { clientId: cfg.clientId, clientSecret: cfg.clientSecret, redirectUri, webhookKey: cfg.webhookKey ?? null },
    apiBase,
    authorizeBase: cfg.authorizeBase ?? mod.oauth.defaultAuthorizeBase,
  };
}

/**
 * Where to send the merchant to consent. A new channel: checks the plan has room for one more shop
 * first. A reconnect (channelId): the channel must exist and be of this type; it keeps its name and settings.
 */
export async function startConnect(
  q: Q,
  scope: Scope,
  sealer: Sealer,
  c: ConnectApp,
  input: {
    type: string;
    name: string;
    settings: Record<string, unknown>;
    channelId?: string | null;
    account?: string | null;
    /** What the platform's install launch handed on for its consent page (openInstall). */
    launch?: Record<string, string> | null;
  },
  now = Date.now(),
): Promise<{ authorize_url: string; expires_at: string }> {
  const account = checkAccount(c, input.account ?? null);
  if (c.flow.installOnly && !input.launch)
    throw new AppError(
      400,
      'install_required',
      `${channelModule(input.type)?.label ?? input.type} is installed from its own side (its app store), or connected with its API keys`,
    );
  if (input.channelId) {
    const ch = await get(q, scope, sealer, input.channelId);
    if (ch.type !== input.type) throw new AppError(409, 'conflict', `Channel ${input.channelId} is a ${ch.type} channel, not ${input.type}`);
  } else if (!(await hasDisconnected(q, scope.tenantId, input.type))) {
    // A disconnected channel of this type may be the account coming back (an app installed again):
    // then the callback reconnects it and no shop is added, and a new one is still checked there.
    await assertShopAvailable(q, scope.tenantId);
  }
  const verifier = c.flow.pkce ? randomBytes(48).toString('base64url') : null;
  const challenge = verifier ? createHash('sha256').update(verifier).digest('base64url') : null;
  const exp = now + STATE_TTL_MS;
  const state = sealer.seal({
    kind: 'oauth',
    tenantId: scope.tenantId,
    userId: scope.actor.id,
    type: input.type,
    name: input.name,
    settings: input.settings,
    channelId: input.channelId ?? null,
    account,
    launch: input.launch ?? null,
    verifier,
    exp,
  } satisfies SealedState);
  return {
    authorize_url: c.flow.authorizeUrl({
      authorizeBase: forAccount(c.authorizeBase, account),
      app: c.app,
      state,
      codeChallenge: challenge,
      account,
      launch: input.launch ?? null,
    }),
    expires_at: new Date(exp).toISOString(),
  };
}

/** The state back from the platform, opened and checked; a 400 for anything forged, altered, stale or for another type. */
export function openState(sealer: Sealer, type: string, state: string, now = Date.now()): SealedState {
  let s: SealedState;
  try {
    s = sealer.open<SealedState>(state);
  } catch {
    throw new AppError(400, 'invalid_state', 'This sign-in link is not one StockClerk made; start connecting again');
  }
  if (s?.kind !== 'oauth' || s.type !== type) throw new AppError(400, 'invalid_state', 'This sign-in link is not for this platform; start connecting again');
  if (!(s.exp > now)) throw new AppError(400, 'expired_state', 'This sign-in link has expired (10 minutes); start connecting again');
  return s;
}

/** The code exchanged and the channel created (or reconnected), as the user who started (their tenant, their plan's limit). */
export async function finishConnect(
  tx: Tx,
  sealer: Sealer,
  c: ConnectApp,
  s: SealedState,
  code: string,
  params: Record<string, string> = {},
  query: Record<string, string> = {},
): Promise<ChannelView> {
  const account = s.account ?? null;
  const baseUrl = forAccount(c.apiBase, account);
  const got = await c.flow.exchange({ baseUrl, app: c.app, code, codeVerifier: s.verifier, params, query, account, launch: s.launch ?? null });
  const scope: Scope = { tenantId: s.tenantId, actor: { type: 'user', id: s.userId }, requestId: null };
  const channelId = s.channelId ?? (await channelForAccount(tx, sealer, c.flow, s.tenantId, s.type, accountKey(c.flow, got.credentials, baseUrl)));
  if (channelId) return reconnect(tx, scope, sealer, channelId, s.type, got.credentials);
  return create(tx, scope, sealer, {
    type: s.type,
    name: s.name,
    base_url: baseUrl,
    credentials: got.credentials,
    settings: { ...s.settings, ...(got.settings ?? {}) },
  });
}

/** Which platform account credentials are for (OAuthFlow.accountOf; a flow with a host per account: its base). */
function accountKey(flow: OAuthFlow, credentials: Record<string, string>, baseUrl: string): string | null {
  return flow.accountOf ? flow.accountOf(credentials) : flow.account ? baseUrl : null;
}

/**
 * The tenant's channel of this type that holds `account` already (the app installed again after it
 * was removed, or consent given twice): it takes the new tokens and keeps its listings, its history
 * and its place in the plan. Null when the account cannot be told or no channel holds it.
 */
async function channelForAccount(q: Q, sealer: Sealer, flow: OAuthFlow, tenantId: string, type: string, account: string | null): Promise<string | null> {
  if (account === null) return null;
  const { rows } = await q.query<{ id: string; base_url: string; credentials_enc: string }>(
    `select id, base_url, credentials_enc from channels where tenant_id = $1 and type = $2 order by (status = 'disconnected') desc, created_at`,
    [tenantId, type],
  );
  for (const r of rows) {
    let creds: Record<string, string>;
    try {
      creds = sealer.open<Record<string, string>>(r.credentials_enc);
    } catch {
      continue; // sealed under a key no longer held: not comparable
    }
    if (accountKey(flow, creds, r.base_url) === account) return r.id;
  }
  return null;
}

/** Whether the tenant has a disconnected channel of this type (one a new consent may bring back). */
async function hasDisconnected(q: Q, tenantId: string, type: string): Promise<boolean> {
  const { rows } = await q.query(`select 1 from channels where tenant_id = $1 and type = $2 and status = 'disconnected' limit 1`, [tenantId, type]);
  return rows.length > 0;
}

/** `{account}` in a base URL replaced by the account (the platform's host per account). */
export function forAccount(base: string, account: string | null): string {
  return account === null ? base : base.replaceAll('{account}', account);
}

/** The account a flow with a host per account needs, checked and normalised; null for the others. */
function checkAccount(c: ConnectApp, account: string | null): string | null {
  const spec = c.flow.account;
  if (!spec) return null;
  const ok = account === null ? null : spec.check(account);
  if (!ok)
    throw new AppError(400, 'invalid_account', `Name the ${spec.label} to connect (account)${account === null ? '' : `: ${account.slice(0, 100)} is not one`}`);
  return ok;
}

/** An install the platform started (GET /install/{type}): the account it names, sealed for the dashboard to continue with. */
interface SealedInstall {
  kind: 'install';
  type: string;
  account: string | null;
  /** What of the launch the consent URL carries back to the platform (OAuthFlow.verifyLaunch). */
  launch?: Record<string, string> | null;
  exp: number;
}

/**
 * Checks the platform's install launch and seals what it named, for the dashboard page the
 * merchant lands on (after signing up or in): `POST /channels/oauth/{type}/start` with the ticket
 * starts consent for that account. The ticket is good for as long as a consent state.
 */
export function startInstall(
  sealer: Sealer,
  c: ConnectApp,
  type: string,
  query: Record<string, string>,
  now = Date.now(),
): { ticket: string; account: string | null } {
  if (!c.flow.verifyLaunch) throw new AppError(400, 'install_not_supported', `Installs are not started from this platform's side`);
  let launched: { account: string | null; launch?: Record<string, string> };
  try {
    launched = c.flow.verifyLaunch(query, c.app, new Date(now));
  } catch (err) {
    throw new AppError(401, 'invalid_launch', `This install link did not come from the platform: ${(err as Error).message}`);
  }
  const account = launched.account === null ? null : checkAccount(c, launched.account);
  const ticket = sealer.seal({ kind: 'install', type, account, launch: launched.launch ?? null, exp: now + STATE_TTL_MS } satisfies SealedInstall);
  return { ticket, account };
}

/** The account an install ticket names and what it carries for the consent page; a 400 for anything forged, stale or for another type. */
export function openInstall(sealer: Sealer, type: string, ticket: string, now = Date.now()): { account: string | null; launch: Record<string, string> | null } {
  let t: SealedInstall;
  try {
    t = sealer.open<SealedInstall>(ticket);
  } catch {
    throw new AppError(400, 'invalid_install', 'This install link is not one StockClerk made; install again from the platform');
  }
  if (t?.kind !== 'install' || t.type !== type)
    throw new AppError(400, 'invalid_install', 'This install link is not for this platform; install again from the platform');
  if (!(t.exp > now)) throw new AppError(400, 'expired_install', 'This install link has expired (10 minutes); install again from the platform');
  return { account: t.account, launch: t.launch ?? null };
}
