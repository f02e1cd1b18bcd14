// Channels: connected platform accounts. Credentials are sealed at rest and never returned (a
// channel shows only which credential fields are set). What a channel of a type may hold is its
// module's (src/channels/registry.ts): the credentials and settings schemas are checked here, and a
// settings change that alters what the channel should hold marks its listings for a push.
import type { z } from 'zod';
import { ChannelError, type ChannelAdapter, type ChannelModule } from '../channels/contract.ts';
import { CHANNELS, CHANNEL_TYPES, channelModule, connectSettingFields, credentialFields } from '../channels/registry.ts';
import { SELLABLE_SETTINGS, settingsJsonSchema, settingsPatch } from '../channels/settings.ts';
import { webhookPath, withoutUrlSecret, withUrlSecret } from '../channels/url-secret.ts';
import type { Sealer } from '../db/crypto.ts';
import { pushJob } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import type { Db, Tx } from '../db/pool.ts';
import { tenantTx } from '../db/tenant-tx.ts';
import { AppError, conflict, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { resolveAlerts } from './alerts.ts';
import { audit } from './audit-log.ts';
import { PRESENCE_S } from './extension-tokens.ts';
import { assertShopAvailable } from './billing.ts';
import { markForPush } from './listing-push.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

/** Live adapters by channel (src/engine/channel-runtime.ts's ChannelRuntime is one). */
export interface LiveChannels {
  load(tenantId: string, channelId: string): Promise<{ row: { status: string }; module: ChannelModule; adapter: ChannelAdapter } | null>;
}

export const CHANNEL_STATUSES = ['connected', 'paused', 'disconnected'] as const;

// ---- the catalogue of types ----

let typeViews: ReturnType<typeof describeTypes> | null = null;

function describeTypes() {
  return CHANNEL_TYPES.map((type) => {
    const mod: ChannelModule = CHANNELS[type];
    return {
      type,
      label: mod.label,
      default_base_url: mod.defaultBaseUrl,
      credential_fields: credentialFields(mod),
      setting_fields: connectSettingFields(mod),
      capabilities: mod.capabilities,
      /** Connected from StockClerk's side by consent on the platform (POST /channels/oauth/{type}/start) rather than by pasting keys. */
      oauth: Boolean(mod.oauth && !mod.oauth.installOnly),
      /** What a consent start must name on platforms with a host per account (a Shopify shop), else null. */
      oauth_account: mod.oauth?.account?.label ?? null,
      settings_schema: settingsJsonSchema(mod.settings),
    };
  });
}

/** Every channel type: what connecting one takes (GET /channel-types, the connect form). */
export function types() {
  return (typeViews ??= describeTypes());
}

// ---- reading ----

const COLUMNS = `c.id, c.type, c.name, c.base_url, c.status, c.settings, c.credentials_enc, c.last_sync_at, c.last_polled_at,
  c.last_error, c.created_at, c.updated_at,
  (select count(*) from listings l where l.tenant_id = c.tenant_id and l.channel_id = c.id)::int as listings_total,
  (select count(*) from listings l where l.tenant_id = c.tenant_id and l.channel_id = c.id and l.item_id is not null)::int as listings_matched,
  exists(select 1 from extension_tokens x where x.tenant_id = c.tenant_id and x.channel_id = c.id and x.revoked_at is null
    and x.connected_at is not null and x.last_seen_at > now() - make_interval(secs => ${PRESENCE_S})) as extension_connected,
  (select count(*) from extension_jobs j where j.tenant_id = c.tenant_id and j.channel_id = c.id and j.status in ('queued', 'sent'))::int as extension_queued,
  (select json_build_object('count', count(*), 'message', (array_agg(j.error ->> 'message' order by j.done_at desc))[1])
     from extension_jobs j where j.tenant_id = c.tenant_id and j.channel_id = c.id and j.status = 'failed' and j.done_at > now() - interval '1 day') as extension_failed`;

type ChannelRow = Record<string, unknown> & {
  id: string;
  type: string;
  credentials_enc: string;
  listings_total: number;
  listings_matched: number;
  extension_connected: boolean;
  extension_queued: number;
  extension_failed: { count: number; message: string | null } | null;
};

export type ChannelView = Omit<
  ChannelRow,
  'credentials_enc' | 'listings_total' | 'listings_matched' | 'extension_connected' | 'extension_queued' | 'extension_failed'
> & {
  credentials: Record<string, boolean>;
  /** Where the platform posts this channel's webhooks, below this API's origin (with its URL secret where the platform signs nothing). */
  webhook_path: string;
  listings: { total: number; matched: number; unmatched: number };
  /**
   * A channel worked through a browser extension: whether one is connected, the jobs waiting for
   * it, and those that failed in the last day with the latest failure's message (a merchant acts on it).
   */
  extension: { connected: boolean; queued_jobs: number; failed_jobs: number; last_failure: string | null } | null;
};

function view(sealer: Sealer, row: ChannelRow): ChannelView {
  const { credentials_enc, listings_total, listings_matched, extension_connected, extension_queued, extension_failed, ...rest } = row;
  let creds: Record<string, unknown> = {};
  try {
    creds = sealer.open(credentials_enc);
  } catch {
    // Unreadable (key changed): every field shows as not set.
  }
  const mod = channelModule(row.type);
  const fields = mod ? credentialFields(mod) : [];
  return {
    ...rest,
    credentials: Object.fromEntries(fields.map((f) => [f.name, typeof creds[f.name] === 'string' && creds[f.name] !== ''])),
    webhook_path: webhookPath(row.type, row.id, creds),
    listings: { total: listings_total, matched: listings_matched, unmatched: listings_total - listings_matched },
    extension:
      mod?.capabilities.transport === 'extension'
        ? {
            connected: extension_connected,
            queued_jobs: extension_queued,
            failed_jobs: extension_failed?.count ?? 0,
            last_failure: extension_failed?.message ?? null,
          }
        : null,
  };
}

export interface ChannelFilter {
  type?: string;
  status?: (typeof CHANNEL_STATUSES)[number];
}

export async function list(q: Q, scope: Scope, sealer: Sealer, input: PageRequest & ChannelFilter) {
  const { rows } = await q.query<ChannelRow>(
    `select ${COLUMNS} from channels c
     where c.tenant_id = $1 and ($2::text is null or c.id > $2) and ($3::text is null or c.type = $3) and ($4::text is null or c.status = $4)
     order by c.id limit $5`,
    [scope.tenantId, input.after, input.type ?? null, input.status ?? null, input.limit + 1],
  );
  const p = page(rows, input.limit, (r) => r.id);
  return { data: p.data.map((r) => view(sealer, r)), next_cursor: p.next_cursor };
}

export async function get(q: Q, scope: Scope, sealer: Sealer, id: string): Promise<ChannelView> {
  const { rows } = await q.query<ChannelRow>(`select ${COLUMNS} from channels c where c.tenant_id = $1 and c.id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('Channel');
  return view(sealer, rows[0]);
}

// ---- changing ----

/** A value checked against a module's schema: a refusal names the field like request validation does. */
function validated<S extends z.ZodType>(schema: S, value: unknown, field: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new AppError(
    400,
    'validation_failed',
    'The request is not valid',
    r.error.issues.map((i) => ({ path: [field, ...i.path.map(String)].join('.'), message: i.message })),
  );
}

function throwConflict(message: string): never {
  throw conflict(message);
}

/** Every location id the settings name must be one of the tenant's. */
async function checkLocations(q: Q, tenantId: string, settings: Record<string, unknown>): Promise<void> {
  const ids = new Set<string>();
  if (Array.isArray(settings.location_ids)) for (const id of settings.location_ids) ids.add(id as string);
  if (settings.location_map && typeof settings.location_map === 'object') for (const id of Object.values(settings.location_map)) ids.add(id as string);
  if (ids.size === 0) return;
  const { rows } = await q.query<{ id: string }>(`select id from locations where tenant_id = $1 and id = any($2)`, [tenantId, [...ids]]);
  const found = new Set(rows.map((r) => r.id));
  const missing = [...ids].filter((id) => !found.has(id));
  // The ids are not echoed back: the caller knows what it sent.
  if (missing.length) throw new AppError(404, 'not_found', `Location not found (${missing.length} of the settings' location ids)`);
}

/** Stored credentials, or none when they no longer open (the sealing key changed). */
function openOrEmpty(sealer: Sealer, sealed: string): Record<string, unknown> {
  try {
    return sealer.open(sealed);
  } catch {
    return {};
  }
}

/** Locks the channel row for a change; 404 when it is not the caller's. */
async function lock(tx: Tx, tenantId: string, id: string) {
  const { rows } = await tx.query<{ type: string; status: string; settings: Record<string, unknown>; credentials_enc: string }>(
    `select type, status, settings, credentials_enc from channels where tenant_id = $1 and id = $2 for update`,
    [tenantId, id],
  );
  if (!rows[0]) throw notFound('Channel');
  return rows[0];
}

/** A new channel: credentials and settings already checked against the type's module (the route's request schema is built from it). */
export interface ChannelInput {
  type: string;
  name: string;
  /** Absent: the platform's real host (its module's default). */
  base_url?: string;
  credentials: Record<string, string>;
  settings?: Record<string, unknown>;
}

export async function create(tx: Tx, scope: Scope, sealer: Sealer, input: ChannelInput): Promise<ChannelView> {
  const mod = channelModule(input.type);
  const baseUrl = input.base_url ?? mod?.defaultBaseUrl;
  if (!mod || !baseUrl) throw new AppError(400, 'validation_failed', 'The request is not valid', [{ path: mod ? 'base_url' : 'type', message: 'Required' }]);
  const settings = input.settings ?? {};
  await checkLocations(tx, scope.tenantId, settings);
  await assertShopAvailable(tx, scope.tenantId);
  const id = newId('ch');
  await tx.query(`insert into channels (tenant_id, id, type, name, base_url, credentials_enc, settings) values ($1, $2, $3, $4, $5, $6, $7)`, [
    scope.tenantId,
    id,
    input.type,
    input.name,
    baseUrl,
    sealer.seal(withUrlSecret(mod, input.credentials)),
    settings,
  ]);
  // Credential values never reach the audit log: only which fields were set.
  await audit(
    tx,
    scope,
    'channel.created',
    { type: 'channel', id },
    {
      type: input.type,
      name: input.name,
      base_url: input.base_url ?? null,
      credentials: Object.keys(input.credentials),
      settings,
    },
  );
  return get(tx, scope, sealer, id);
}

export interface ChannelPatch {
  name?: string;
  base_url?: string;
  /** The whole set, checked against the channel type's credentials schema. */
  credentials?: Record<string, unknown>;
  /** Merged into the stored settings; `null` removes a key. Checked against the type's settings schema. */
  settings?: Record<string, unknown>;
}

export async function update(tx: Tx, scope: Scope, sealer: Sealer, id: string, patch: ChannelPatch): Promise<ChannelView> {
  const tenantId = scope.tenantId;
  const ch = await lock(tx, tenantId, id);
  // A row of a type no module declares (a test's) still takes a new name or URL.
  const module = (): ChannelModule => channelModule(ch.type) ?? throwConflict(`No channel module for type ${ch.type}`);
  let sealed: string | null = null;
  // The URL secret is not the merchant's to send or lose: new credentials keep the channel's (its platform already has the URL).
  if (patch.credentials !== undefined) {
    const checked = validated(module().credentials, withoutUrlSecret(patch.credentials), 'credentials') as Record<string, string>;
    sealed = sealer.seal(withUrlSecret(module(), checked, openOrEmpty(sealer, ch.credentials_enc)));
  }
  let settings: Record<string, unknown> | null = null;
  let changes: Record<string, unknown> | undefined;
  let sellableChanged = false;
  if (patch.settings !== undefined) {
    changes = validated(settingsPatch(module().settings), patch.settings, 'settings');
    settings = { ...ch.settings };
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) continue;
      if ((SELLABLE_SETTINGS as readonly string[]).includes(k) && JSON.stringify(ch.settings[k] ?? null) !== JSON.stringify(v)) sellableChanged = true;
      if (v === null) delete settings[k];
      else settings[k] = v;
    }
    await checkLocations(tx, tenantId, settings);
  }
  // updated_at moves on every change: the channel runtime rebuilds its adapter from the new row.
  await tx.query(
    `update channels set name = coalesce($3, name), base_url = coalesce($4, base_url), credentials_enc = coalesce($5, credentials_enc),
            settings = coalesce($6, settings), updated_at = greatest(now(), updated_at + interval '1 millisecond')
     where tenant_id = $1 and id = $2`,
    [tenantId, id, patch.name ?? null, patch.base_url ?? null, sealed, settings],
  );
  if (sellableChanged && ch.status === 'connected') await markForPush(tx, tenantId, { channelId: id });
  await audit(
    tx,
    scope,
    'channel.updated',
    { type: 'channel', id },
    {
      ...patch,
      settings: changes,
      credentials: patch.credentials === undefined ? undefined : Object.keys(patch.credentials),
    },
  );
  return get(tx, scope, sealer, id);
}

/**
 * Deletes the channel and its listings (on delete cascade); the ledger keeps its history. What the
 * catalog holds for the channel (its publications and their history, overrides, conflicts) means
 * nothing without it and goes too (the products stay); those tables have no cascade from
 * channels, so without this a marketplace that had published anything could not be removed.
 */
export async function remove(tx: Tx, scope: Scope, id: string): Promise<void> {
  const args = [scope.tenantId, id];
  await tx.query(`delete from conflicts where tenant_id = $1 and channel_id = $2`, args);
  await tx.query(
    `delete from publication_events where tenant_id = $1 and publication_id in (select id from publications where tenant_id = $1 and channel_id = $2)`,
    args,
  );
  await tx.query(`delete from publications where tenant_id = $1 and channel_id = $2`, args);
  await tx.query(`delete from product_overrides where tenant_id = $1 and channel_id = $2`, args);
  const { rowCount } = await tx.query(`delete from channels where tenant_id = $1 and id = $2`, args);
  if (!rowCount) throw notFound('Channel');
  for (const type of ['channel_auth', 'sync_failure_rate'] as const) await resolveAlerts(tx, scope.tenantId, type, [id]);
  await audit(tx, scope, 'channel.deleted', { type: 'channel', id });
}

export async function pause(tx: Tx, scope: Scope, sealer: Sealer, id: string): Promise<ChannelView> {
  await lock(tx, scope.tenantId, id);
  await tx.query(`update channels set status = 'paused' where tenant_id = $1 and id = $2`, [scope.tenantId, id]);
  await audit(tx, scope, 'channel.paused', { type: 'channel', id });
  return get(tx, scope, sealer, id);
}

/** Resumes pushes and queues one for what piled up while paused (listings already marked stay marked). */
export async function resume(tx: Tx, scope: Scope, sealer: Sealer, id: string): Promise<ChannelView> {
  const ch = await lock(tx, scope.tenantId, id);
  if (ch.status === 'disconnected') throw conflict('This channel refused its credentials: fix them and test the connection to reconnect it');
  // A paused channel is not a shop of the plan; resuming makes it one again.
  if (ch.status === 'paused') await assertShopAvailable(tx, scope.tenantId);
  // Paused channels are not polled: the next tick polls it, for the sales made meanwhile.
  await tx.query(`update channels set status = 'connected', last_polled_at = null where tenant_id = $1 and id = $2`, [scope.tenantId, id]);
  await audit(tx, scope, 'channel.resumed', { type: 'channel', id });
  await addJobs(tx, [pushJob(scope.tenantId, id)]);
  return get(tx, scope, sealer, id);
}

/** "Sync now": every matched listing of a connected channel is pushed again. */
export async function syncNow(tx: Tx, scope: Scope, id: string): Promise<{ queued: true; listings: number }> {
  const ch = await lock(tx, scope.tenantId, id);
  if (ch.status !== 'connected') throw conflict(`The channel is ${ch.status}; nothing can be pushed to it`);
  return { queued: true, listings: await markForPush(tx, scope.tenantId, { channelId: id }) };
}

export type ConnectionTest = { ok: true; account: string } | { ok: false; error: { kind: ChannelError['kind']; message: string } };

/**
 * One cheap authenticated call to the platform. A failure is an answer (ok: false), never an
 * error. A disconnected channel whose credentials work again is reconnected: its auth alert
 * closes and what piled up is pushed.
 */
export async function testConnection(db: Db, scope: Scope, live: LiveChannels, id: string): Promise<ConnectionTest> {
  const ch = await live.load(scope.tenantId, id);
  if (!ch) throw notFound('Channel');
  let account: string;
  try {
    account = (await ch.adapter.testConnection()).account;
  } catch (err) {
    return { ok: false, error: { kind: err instanceof ChannelError ? err.kind : 'permanent', message: (err as Error).message } };
  }
  if (ch.row.status === 'disconnected') await tenantTx(db, scope.tenantId, (tx) => markReconnected(tx, scope.tenantId, id));
  return { ok: true, account };
}

/** A disconnected channel whose credentials work again: connected, its auth alert closed, what piled up pushed, a poll due. */
async function markReconnected(tx: Tx, tenantId: string, id: string): Promise<void> {
  const { rowCount } = await tx.query(
    // last_polled_at = null: the next scheduler tick polls it, for the sales made while it was out.
    `update channels set status = 'connected', last_error = null, last_polled_at = null where tenant_id = $1 and id = $2 and status = 'disconnected'`,
    [tenantId, id],
  );
  if (rowCount) {
    await resolveAlerts(tx, tenantId, 'channel_auth', [id]);
    await addJobs(tx, [pushJob(tenantId, id)]);
  }
}

/**
 * The merchant consented again for an existing channel (the platform refused its tokens): the new
 * tokens are laid over what it holds, so keys the consent does not give (eBay's notification
 * verification token) stay, and a disconnected channel is connected again. `type` guards against a
 * consent for one platform landing on another's channel.
 */
export async function reconnect(tx: Tx, scope: Scope, sealer: Sealer, id: string, type: string, credentials: Record<string, string>): Promise<ChannelView> {
  const { rows } = await tx.query<{ type: string; credentials_enc: string }>(
    `select type, credentials_enc from channels where tenant_id = $1 and id = $2 for update`,
    [scope.tenantId, id],
  );
  if (!rows[0] || rows[0].type !== type) throw notFound('Channel');
  await update(tx, scope, sealer, id, { credentials: { ...sealer.open<Record<string, string>>(rows[0].credentials_enc), ...credentials } });
  await markReconnected(tx, scope.tenantId, id);
  return get(tx, scope, sealer, id);
}
