// Channels: connect a platform account (credentials sealed at rest, never returned), read,
// update, delete, test the connection, pause / resume, import its listings, force a full sync.
// Responses show only which credential fields are set: `credentials: {api_key: true, ...}`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z, type ZodType } from 'zod';
import { CHANNEL_TYPES, ChannelError, type ChannelModule, type ChannelType } from '../../channels/contract.ts';
import { CHANNELS, channelModule } from '../../channels/registry.ts';
import { addJobs } from '../../db/jobs.ts';
import { withTx, type Tx } from '../../db/pool.ts';
import { newId } from '../../domain/ids.ts';
import { resolveAlerts } from '../../services/alerts.ts';
import type { AppContext } from '../../engine/context.ts';
import { importListings } from '../../engine/onboarding.ts';
import { pushJob } from '../../db/job-specs.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { page, pageQuery } from '../paging.ts';
import { audit } from '../audit.ts';
import { finishInTx } from '../plugins/idempotency.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { Channel, ChannelType as ChannelTypeView, Queued } from '../schemas.ts';
import { httpUrl, idParam, idRef, pathId, requestOrigin, stringCursor, text } from './common.ts';

const TAG = 'channels';
const Params = idParam('ch');
const ChannelTest = z.union([
  z.strictObject({ ok: z.literal(true), account: z.string() }),
  z.strictObject({ ok: z.literal(false), error: z.strictObject({ kind: z.string(), message: z.string() }) }),
]);
const ImportResult = z.strictObject({ imported: z.number().int(), matched: z.number().int(), unmatched: z.number().int() });

/** Real API hosts; Shopify has one host per shop, so its base_url is always given. */
export const DEFAULT_BASE_URL: Partial<Record<ChannelType, string>> = {
  wix: 'https://www.wixapis.com',
  eposnow: 'https://api.eposnowhq.com',
  deliveroo: 'https://api.developers.deliveroo.com',
};

const name = text(1, 200);
const platformId = text(1, 200);

/** Sync policy (src/domain/channel-policy.ts) and the platform settings the adapters read. */
const SETTINGS_SHAPE = {
  /** Locations whose stock the channel sells (the first also takes its sales); empty = all. */
  location_ids: z.array(idRef('loc')).max(100),
  default_buffer: z.number().int().min(0).max(1_000_000),
  /** Share of the available stock offered, 0..1. */
  percent: z.number().min(0).max(1),
  cap: z.number().int().min(0).max(1_000_000_000),
  sales_source: z.enum(['orders', 'levels']),
  /** Platform location id -> our location id. */
  location_map: z.record(platformId, idRef('loc')).refine((m) => Object.keys(m).length <= 100, 'at most 100 entries'),
  location_id: z.union([platformId, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]),
  brand_id: platformId,
  site_id: platformId,
  menu_id: platformId,
  auth_base_url: httpUrl,
  request_timeout_ms: z.number().int().min(100).max(60_000),
  page_size: z.number().int().min(1).max(1000),
  /** Vendure: Admin API path and the stock location StockClerk reads and writes. */
  admin_api_path: z.string().regex(/^[A-Za-z0-9._~/-]{1,200}$/, 'a URL path'),
  stock_location_id: platformId,
};
type SettingsKey = keyof typeof SETTINGS_SHAPE;
const Settings = named(z.strictObject(SETTINGS_SHAPE).partial(), 'ChannelSettings');
/** In a PATCH, `null` removes a setting (back to its default). */
const SettingsPatch = z.strictObject(
  Object.fromEntries(Object.entries(SETTINGS_SHAPE).map(([k, s]) => [k, (s as ZodType).nullable().optional()])) as Record<string, ZodType>,
);
/** Settings that change what a channel should hold: changing one queues a push. */
const SELLABLE_KEYS: SettingsKey[] = ['location_ids', 'default_buffer', 'percent', 'cap'];

function credentialsSchema(mod: ChannelModule) {
  const shape: Record<string, ZodType> = {};
  for (const f of mod.credentialFields) {
    const s = z.string().min(1).max(20_000).refine((v) => !v.includes('\u0000'), 'must not contain NUL characters');
    shape[f.name] = f.required ? s : s.optional();
  }
  return z.strictObject(shape);
}

const ChannelCreate = z.discriminatedUnion(
  'type',
  CHANNEL_TYPES.map((type) =>
    z.strictObject({
      type: z.literal(type),
      name,
      base_url: DEFAULT_BASE_URL[type] ? httpUrl.optional() : httpUrl,
      credentials: credentialsSchema(CHANNELS[type]),
      settings: Settings.optional(),
    }),
  ) as unknown as Parameters<typeof z.discriminatedUnion>[1],
) as unknown as ZodType<{ type: ChannelType; name: string; base_url?: string; credentials: Record<string, string>; settings?: Record<string, unknown> }>;

const ChannelPatch = z
  .strictObject({
    name,
    base_url: httpUrl,
    // Validated against the channel's type once it is loaded: the whole set is replaced.
    credentials: z.record(z.string().max(100), z.unknown()),
    settings: SettingsPatch,
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field');

const ListQuery = z.strictObject({
  ...pageQuery,
  type: z.enum(CHANNEL_TYPES).optional(),
  status: z.enum(['connected', 'paused', 'disconnected']).optional(),
});

const COLUMNS = `c.id, c.type, c.name, c.base_url, c.status, c.settings, c.credentials_enc, c.last_sync_at, c.last_polled_at,
  c.last_error, c.created_at, c.updated_at,
  (select count(*) from listings l where l.tenant_id = c.tenant_id and l.channel_id = c.id)::int as listings_total,
  (select count(*) from listings l where l.tenant_id = c.tenant_id and l.channel_id = c.id and l.item_id is not null)::int as listings_matched`;

type ChannelRow = Record<string, unknown> & { id: string; type: string; credentials_enc: string; listings_total: number; listings_matched: number };

export async function channelRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  /** What the "connect a channel" form needs: each type's credential fields and capabilities. */
  app.get('/channel-types', doc({ summary: 'Channel types and the credentials each needs', tag: TAG, responses: { 200: z.strictObject({ data: z.array(ChannelTypeView) }) } }), async () => ({
    data: CHANNEL_TYPES.map((type) => ({
      type,
      default_base_url: DEFAULT_BASE_URL[type] ?? null,
      credential_fields: CHANNELS[type].credentialFields,
      capabilities: CHANNELS[type].capabilities,
    })),
  }));

  function view(req: FastifyRequest, row: ChannelRow) {
    const { credentials_enc, listings_total, listings_matched, ...rest } = row;
    let creds: Record<string, unknown> = {};
    try {
      creds = ctx.sealer.open(credentials_enc);
    } catch {
      // Unreadable (key changed): every field shows as not set.
    }
    const fields = channelModule(row.type)?.credentialFields ?? [];
    return {
      ...rest,
      credentials: Object.fromEntries(fields.map((f) => [f.name, typeof creds[f.name] === 'string' && creds[f.name] !== ''])),
      listings: { total: listings_total, matched: listings_matched, unmatched: listings_total - listings_matched },
      webhook_url: `${requestOrigin(req)}/webhooks/${row.type}/${row.id}`,
    };
  }

  async function read(req: FastifyRequest, id: string, q: Pick<Tx, 'query'> = ctx.db) {
    const { rows } = await q.query<ChannelRow>(`select ${COLUMNS} from channels c where c.tenant_id = $1 and c.id = $2`, [req.auth.tenantId, id]);
    if (!rows[0]) throw notFound('Channel');
    return view(req, rows[0]);
  }

  /** Every location id a settings object names must be one of the tenant's. */
  async function checkLocations(q: Pick<Tx, 'query'>, tenantId: string, settings: Record<string, unknown>): Promise<void> {
    const ids = new Set<string>();
    if (Array.isArray(settings.location_ids)) for (const id of settings.location_ids) ids.add(id as string);
    if (settings.location_map && typeof settings.location_map === 'object') for (const id of Object.values(settings.location_map)) ids.add(id as string);
    if (ids.size === 0) return;
    const { rows } = await q.query<{ id: string }>(`select id from locations where tenant_id = $1 and id = any($2)`, [tenantId, [...ids]]);
    const found = new Set(rows.map((r) => r.id));
    const missing = [...ids].filter((id) => !found.has(id));
    // The ids are not echoed back: the caller knows what it sent.
    if (missing.length) throw new ApiError(404, 'not_found', `Location not found (${missing.length} of the settings' location ids)`);
  }

  /** Marks every matched listing of the channel as needing a push and queues it (same transaction). */
  async function markDirty(tx: Tx, tenantId: string, channelId: string): Promise<number> {
    const { rowCount } = await tx.query(
      `update listings set dirty_seq = dirty_seq + 1, state = case when state = 'in_sync' then 'pending' else state end
       where tenant_id = $1 and channel_id = $2 and item_id is not null`,
      [tenantId, channelId],
    );
    await addJobs(tx, [pushJob(tenantId, channelId)]);
    return rowCount ?? 0;
  }

  /** Locks the channel row for a change; 404 when it is not the caller's. */
  async function lockChannel(tx: Tx, tenantId: string, id: string) {
    const { rows } = await tx.query<{ type: string; status: string; settings: Record<string, unknown> }>(
      `select type, status, settings from channels where tenant_id = $1 and id = $2 for update`,
      [tenantId, id],
    );
    if (!rows[0]) throw notFound('Channel');
    return rows[0];
  }

  app.get('/channels', doc({ summary: 'List channels', tag: TAG, query: ListQuery, responses: { 200: pageOf(Channel) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    const after = stringCursor(q.cursor);
    const { rows } = await ctx.db.query<ChannelRow>(
      `select ${COLUMNS} from channels c
       where c.tenant_id = $1 and ($2::text is null or c.id > $2) and ($3::text is null or c.type = $3) and ($4::text is null or c.status = $4)
       order by c.id limit $5`,
      [req.auth.tenantId, after, q.type ?? null, q.status ?? null, q.limit + 1],
    );
    const p = page(rows, q.limit, (r) => r.id);
    return { data: p.data.map((r) => view(req, r)), next_cursor: p.next_cursor };
  });

  app.post('/channels', doc({ summary: 'Connect a channel', tag: TAG, body: ChannelCreate, etag: true, responses: { 201: Channel } }), async (req, reply) => {
    const b = parse(ChannelCreate, req.body);
    const settings = b.settings ?? {};
    await checkLocations(ctx.db, req.auth.tenantId, settings);
    const id = newId('ch');
    const created = await withTx(ctx.db, async (tx) => {
      await tx.query(
        `insert into channels (tenant_id, id, type, name, base_url, credentials_enc, settings) values ($1, $2, $3, $4, $5, $6, $7)`,
        [req.auth.tenantId, id, b.type, b.name, b.base_url ?? DEFAULT_BASE_URL[b.type], ctx.sealer.seal(b.credentials), settings],
      );
      // Credential values never reach the audit log: only which fields were set.
      await audit(tx, req, 'channel.created', { type: 'channel', id }, { type: b.type, name: b.name, base_url: b.base_url ?? null, credentials: Object.keys(b.credentials), settings });
      const out = await read(req, id, tx);
      // A retry must not connect the account twice: the answer commits with the channel.
      await finishInTx(tx, req, 201, out);
      return out;
    });
    return reply.code(201).send(created);
  });

  app.get('/channels/:id', doc({ summary: 'Read a channel', tag: TAG, params: Params, etag: true, responses: { 200: Channel } }), async (req) => read(req, pathId(req.params, 'ch', 'Channel')));

  app.patch('/channels/:id', doc({ summary: 'Update a channel', tag: TAG, params: Params, body: ChannelPatch, etag: true, responses: { 200: Channel } }), async (req) => {
    const id = pathId(req.params, 'ch', 'Channel');
    const b = parse(ChannelPatch, req.body);
    const tenantId = req.auth.tenantId;
    await withTx(ctx.db, async (tx) => {
      const ch = await lockChannel(tx, tenantId, id);
      let sealed: string | null = null;
      if (b.credentials !== undefined) {
        const { credentials } = parse(z.object({ credentials: credentialsSchema(channelModule(ch.type)!) }), { credentials: b.credentials });
        sealed = ctx.sealer.seal(credentials);
      }
      let settings: Record<string, unknown> | null = null;
      let sellableChanged = false;
      if (b.settings !== undefined) {
        settings = { ...ch.settings };
        for (const [k, v] of Object.entries(b.settings)) {
          if (v === undefined) continue;
          if (SELLABLE_KEYS.includes(k as SettingsKey) && JSON.stringify(ch.settings[k] ?? null) !== JSON.stringify(v)) sellableChanged = true;
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
        [tenantId, id, b.name ?? null, b.base_url ?? null, sealed, settings],
      );
      if (sellableChanged && ch.status === 'connected') await markDirty(tx, tenantId, id);
      await audit(tx, req, 'channel.updated', { type: 'channel', id }, { ...b, credentials: b.credentials === undefined ? undefined : Object.keys(b.credentials) });
    });
    return read(req, id);
  });

  app.delete('/channels/:id', doc({ summary: 'Delete a channel and its listings', tag: TAG, params: Params, responses: { 204: null } }), async (req, reply) => {
    const id = pathId(req.params, 'ch', 'Channel');
    await withTx(ctx.db, async (tx) => {
      // Listings go with it (on delete cascade); the ledger keeps its history.
      const { rowCount } = await tx.query(`delete from channels where tenant_id = $1 and id = $2`, [req.auth.tenantId, id]);
      if (!rowCount) throw notFound('Channel');
      for (const type of ['channel_auth', 'sync_failure_rate'] as const) await resolveAlerts(tx, req.auth.tenantId, type, [id]);
      await audit(tx, req, 'channel.deleted', { type: 'channel', id });
    });
    return reply.code(204).send();
  });

  // A channel failure is an answer here (ok: false), never a 5xx.
  app.post('/channels/:id/test', doc({ summary: 'Test the connection (a failure is ok: false)', tag: TAG, params: Params, responses: { 200: ChannelTest } }), async (req) => {
    const id = pathId(req.params, 'ch', 'Channel');
    const tenantId = req.auth.tenantId;
    const live = await ctx.channels.load(tenantId, id);
    if (!live) throw notFound('Channel');
    let account: string;
    try {
      account = (await live.adapter.testConnection()).account;
    } catch (err) {
      const kind = err instanceof ChannelError ? err.kind : 'permanent';
      req.log.info({ channel_id: id, kind, err: (err as Error).message }, 'channel test failed');
      return { ok: false, error: { kind, message: (err as Error).message } };
    }
    if (live.row.status === 'disconnected') {
      // The credentials work again: reconnect, close the auth alert, push what piled up.
      await withTx(ctx.db, async (tx) => {
        const { rowCount } = await tx.query(
          `update channels set status = 'connected', last_error = null where tenant_id = $1 and id = $2 and status = 'disconnected'`,
          [tenantId, id],
        );
        if (rowCount) {
          await resolveAlerts(tx, tenantId, 'channel_auth', [id]);
          await addJobs(tx, [pushJob(tenantId, id)]);
        }
      });
    }
    return { ok: true, account };
  });

  app.post('/channels/:id/pause', doc({ summary: 'Pause pushes', tag: TAG, params: Params, etag: true, responses: { 200: Channel } }), async (req) => {
    const id = pathId(req.params, 'ch', 'Channel');
    await withTx(ctx.db, async (tx) => {
      await lockChannel(tx, req.auth.tenantId, id);
      await tx.query(`update channels set status = 'paused' where tenant_id = $1 and id = $2`, [req.auth.tenantId, id]);
      await audit(tx, req, 'channel.paused', { type: 'channel', id });
    });
    return read(req, id);
  });

  app.post('/channels/:id/resume', doc({ summary: 'Resume pushes', tag: TAG, params: Params, etag: true, responses: { 200: Channel } }), async (req) => {
    const id = pathId(req.params, 'ch', 'Channel');
    await withTx(ctx.db, async (tx) => {
      const ch = await lockChannel(tx, req.auth.tenantId, id);
      if (ch.status === 'disconnected') {
        throw new ApiError(409, 'conflict', 'This channel refused its credentials: fix them and test the connection to reconnect it');
      }
      await tx.query(`update channels set status = 'connected' where tenant_id = $1 and id = $2`, [req.auth.tenantId, id]);
      await audit(tx, req, 'channel.resumed', { type: 'channel', id });
      await addJobs(tx, [pushJob(req.auth.tenantId, id)]);
    });
    return read(req, id);
  });

  app.post(
    '/channels/:id/import',
    doc({ summary: 'Import the channel\u2019s listings and match them by SKU', tag: TAG, params: Params, responses: { 200: ImportResult, 502: ErrorBody } }),
    async (req) => {
    const id = pathId(req.params, 'ch', 'Channel');
    const { rowCount } = await ctx.db.query(`select 1 from channels where tenant_id = $1 and id = $2`, [req.auth.tenantId, id]);
    if (!rowCount) throw notFound('Channel');
    try {
      return await importListings(ctx, req.auth.tenantId, id);
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
      if (err.kind === 'auth') throw new ApiError(502, 'channel_auth_failed', `The channel refused our credentials: ${err.message}`, { kind: err.kind });
      throw new ApiError(502, 'channel_unreachable', `The channel could not be read: ${err.message}`, { kind: err.kind });
    }
  });

  app.post(
    '/channels/:id/sync',
    doc({ summary: 'Push every matched listing now', tag: TAG, params: Params, responses: { 202: Queued.extend({ listings: z.number().int() }) } }),
    async (req, reply) => {
    const id = pathId(req.params, 'ch', 'Channel');
    const listings = await withTx(ctx.db, async (tx) => {
      const ch = await lockChannel(tx, req.auth.tenantId, id);
      if (ch.status !== 'connected') throw new ApiError(409, 'conflict', `The channel is ${ch.status}; nothing can be pushed to it`);
      return markDirty(tx, req.auth.tenantId, id);
    });
    return reply.code(202).send({ queued: true, listings });
  });
}
