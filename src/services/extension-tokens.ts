// Extension tokens (docs/extension-protocol.md): a user pairs the browser extension with one of the
// tenant's extension channels by issuing a token for it. The token is shown once; only its SHA-256
// is stored (src/db/api-keys.ts says why one hash suffices for 256 random bits). Revoking keeps the
// row (the audit log names it) and the socket holding it is closed (src/http/extension-socket.ts).
import { randomBytes } from 'node:crypto';
import { channelModule } from '../channels/registry.ts';
import { hashKey } from '../db/api-keys.ts';
import { AppError, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { audit } from './audit-log.ts';
import type { Q, Scope } from './scope.ts';

export const EXTENSION_TOKEN_PREFIX = 'sce_';

/** An extension counts as connected while its socket's heartbeats keep last_seen_at this fresh. */
export const PRESENCE_S = 60;

const COLUMNS = `t.id, t.channel_id, t.user_id, t.name, t.prefix, t.created_at, t.revoked_at, t.last_seen_at,
  (t.connected_at is not null and t.revoked_at is null and t.last_seen_at > now() - make_interval(secs => ${PRESENCE_S})) as connected,
  t.status`;

export interface ExtensionTokenView {
  id: string;
  channel_id: string;
  user_id: string | null;
  name: string;
  prefix: string;
  created_at: Date;
  revoked_at: Date | null;
  last_seen_at: Date | null;
  connected: boolean;
  status: { logged_in: boolean; account: string | null } | null;
}

export async function listExtensionTokens(q: Q, scope: Scope, channelId: string): Promise<ExtensionTokenView[]> {
  await channelOfExtension(q, scope, channelId);
  const { rows } = await q.query<ExtensionTokenView>(`select ${COLUMNS} from extension_tokens t where t.tenant_id = $1 and t.channel_id = $2 order by t.id`, [
    scope.tenantId,
    channelId,
  ]);
  return rows;
}

/** A new token for the channel, issued by the calling user; `token` is the secret, returned only here. */
export async function issueExtensionToken(tx: Q, scope: Scope, channelId: string, name: string): Promise<ExtensionTokenView & { token: string }> {
  await channelOfExtension(tx, scope, channelId);
  const id = newId('xtk');
  const token = EXTENSION_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  await tx.query(`insert into extension_tokens (tenant_id, id, channel_id, user_id, name, prefix, secret_hash) values ($1, $2, $3, $4, $5, $6, $7)`, [
    scope.tenantId,
    id,
    channelId,
    scope.actor.type === 'user' ? scope.actor.id : null,
    name,
    token.slice(0, EXTENSION_TOKEN_PREFIX.length + 6),
    hashKey(token),
  ]);
  await audit(tx, scope, 'extension_token.issued', { type: 'extension_token', id }, { channel_id: channelId, name });
  const { rows } = await tx.query<ExtensionTokenView>(`select ${COLUMNS} from extension_tokens t where t.tenant_id = $1 and t.id = $2`, [scope.tenantId, id]);
  return { ...rows[0]!, token };
}

/** Revoking twice is harmless (the first time stands). Returns the channel, for closing its socket. */
export async function revokeExtensionToken(tx: Q, scope: Scope, id: string): Promise<{ channelId: string }> {
  const { rows } = await tx.query<{ channel_id: string }>(
    `update extension_tokens set revoked_at = coalesce(revoked_at, now()), connected_at = null where tenant_id = $1 and id = $2 returning channel_id`,
    [scope.tenantId, id],
  );
  if (!rows[0]) throw notFound('Extension token');
  await audit(tx, scope, 'extension_token.revoked', { type: 'extension_token', id });
  return { channelId: rows[0].channel_id };
}

export interface PairedExtension {
  tenantId: string;
  tokenId: string;
  channelId: string;
  channelName: string;
  baseUrl: string;
}

/** The pairing a presented token stands for, or null (unknown, revoked, or its channel is gone). Not tenant-scoped: the token says which tenant. */
export async function resolveExtensionToken(q: Q, token: string): Promise<PairedExtension | null> {
  if (!token.startsWith(EXTENSION_TOKEN_PREFIX)) return null;
  const { rows } = await q.query<{ tenant_id: string; id: string; channel_id: string; name: string; base_url: string }>(
    `select t.tenant_id, t.id, t.channel_id, c.name, c.base_url
       from extension_tokens t join channels c on c.tenant_id = t.tenant_id and c.id = t.channel_id
      where t.secret_hash = $1 and t.revoked_at is null`,
    [hashKey(token)],
  );
  const r = rows[0];
  return r ? { tenantId: r.tenant_id, tokenId: r.id, channelId: r.channel_id, channelName: r.name, baseUrl: r.base_url } : null;
}

/** Whether the token is still good (a live socket re-checks it on each heartbeat: a revoke in another process shows here). */
export async function extensionTokenLive(q: Q, tenantId: string, tokenId: string): Promise<boolean> {
  const { rows } = await q.query(`select 1 from extension_tokens where tenant_id = $1 and id = $2 and revoked_at is null`, [tenantId, tokenId]);
  return rows.length > 0;
}

/** A socket opened (or beat) with the token; `status` when the extension reported its marketplace session. */
export async function markExtensionSeen(q: Q, tenantId: string, tokenId: string, status?: { logged_in: boolean; account: string | null }): Promise<void> {
  await q.query(
    `update extension_tokens set connected_at = coalesce(connected_at, now()), last_seen_at = now(), status = coalesce($3::jsonb, status)
      where tenant_id = $1 and id = $2`,
    [tenantId, tokenId, status ? JSON.stringify(status) : null],
  );
}

export async function markExtensionGone(q: Q, tenantId: string, tokenId: string): Promise<void> {
  await q.query(`update extension_tokens set connected_at = null where tenant_id = $1 and id = $2`, [tenantId, tokenId]);
}

/** Whether any extension holds a socket for the channel now. */
export async function extensionConnected(q: Q, tenantId: string, channelId: string): Promise<boolean> {
  const { rows } = await q.query(
    `select 1 from extension_tokens where tenant_id = $1 and channel_id = $2 and revoked_at is null and connected_at is not null
        and last_seen_at > now() - make_interval(secs => ${PRESENCE_S}) limit 1`,
    [tenantId, channelId],
  );
  return rows.length > 0;
}

async function channelOfExtension(q: Q, scope: Scope, channelId: string): Promise<void> {
  const { rows } = await q.query<{ type: string }>(`select type from channels where tenant_id = $1 and id = $2`, [scope.tenantId, channelId]);
  if (!rows[0]) throw notFound('Channel');
  if (channelModule(rows[0].type)?.capabilities.transport !== 'extension')
    throw new AppError(409, 'not_an_extension_channel', 'This channel is reached through its API, not through a browser extension');
}
