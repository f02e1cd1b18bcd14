// Channels: connect a platform account (credentials sealed at rest, never returned), read,
// update, delete, test the connection, pause / resume, import its listings, force a full sync.
// Responses show only which credential fields are set: `credentials: {api_key: true, ...}`.
// What each type takes (credentials, settings, default host) comes from its channel module via
// the registry: this file names no platform. Rules in src/services/channels.ts and listings.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z, type ZodType } from 'zod';
import { CHANNELS, CHANNEL_TYPES, type ChannelType } from '../../channels/registry.ts';
import { savedSettings } from '../../channels/settings.ts';
import type { AppContext } from '../../engine/context.ts';
import * as channels from '../../services/channels.ts';
import { importListings } from '../../services/listings.ts';
import { parse } from '../errors.ts';
import { pageQuery } from '../paging.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { scopeOf } from '../scope.ts';
import { Channel, ChannelType as ChannelTypeView, Queued } from '../schemas.ts';
import { write } from '../tx.ts';
import { httpUrl, idParam, pathId, requestOrigin, stringCursor, text } from './common.ts';

const TAG = 'channels';
const Params = idParam('ch');
const ChannelTest = z.union([
  z.strictObject({ ok: z.literal(true), account: z.string() }),
  z.strictObject({ ok: z.literal(false), error: z.strictObject({ kind: z.string(), message: z.string() }) }),
]);
const ImportResult = z.strictObject({ imported: z.number().int(), matched: z.number().int(), unmatched: z.number().int() });

const name = text(1, 200);
const pascal = (type: string) => type.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_m, _s, c: string) => c.toUpperCase());

/** One body per type: its credentials, its settings (a component of its own), base_url optional where the module has a default host. */
const ChannelCreate = z.discriminatedUnion(
  'type',
  CHANNEL_TYPES.map((type) => {
    const mod = CHANNELS[type];
    return z.strictObject({
      type: z.literal(type),
      name,
      base_url: mod.defaultBaseUrl ? httpUrl.optional() : httpUrl,
      credentials: mod.credentials,
      settings: named(savedSettings(mod.settings), `${pascal(type)}ChannelSettings`).optional(),
    });
  }) as unknown as Parameters<typeof z.discriminatedUnion>[1],
) as unknown as ZodType<channels.ChannelInput>;

const ChannelPatch = z
  .strictObject({
    name,
    base_url: httpUrl,
    // Checked against the channel's type once it is loaded (GET /channel-types has each type's
    // credential fields and settings schema): credentials are replaced as a whole set, settings
    // are merged (null removes one).
    credentials: z.record(z.string().max(100), z.unknown()),
    settings: z.record(z.string().max(100), z.unknown()),
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field');

const ListQuery = z.strictObject({
  ...pageQuery,
  type: z.enum(CHANNEL_TYPES as [ChannelType, ...ChannelType[]]).optional(),
  status: z.enum(channels.CHANNEL_STATUSES).optional(),
});

export async function channelRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  /** The URL a platform's webhooks go to, as the caller reaches this API. */
  const withUrl =
    (req: FastifyRequest) =>
    ({ webhook_path, ...c }: channels.ChannelView) => ({ ...c, webhook_url: requestOrigin(req) + webhook_path });

  /** What the "connect a channel" form needs: each type's label, credential fields, settings and capabilities. */
  app.get(
    '/channel-types',
    doc({ summary: 'Channel types: what connecting each takes', tag: TAG, responses: { 200: z.strictObject({ data: z.array(ChannelTypeView) }) } }),
    async () => ({ data: channels.types() }),
  );

  app.get('/channels', doc({ summary: 'List channels', tag: TAG, query: ListQuery, responses: { 200: pageOf(Channel) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    const p = await channels.list(ctx.db, scopeOf(req), ctx.sealer, { after: stringCursor(q.cursor), limit: q.limit, type: q.type, status: q.status });
    return { data: p.data.map(withUrl(req)), next_cursor: p.next_cursor };
  });

  // Connecting, changing, testing, pausing and removing a channel handle its credentials: admins
  // (src/domain/permissions.ts). Importing and syncing listings are editors' work.
  app.post(
    '/channels',
    doc({ summary: 'Connect a channel', tag: TAG, scope: 'admin', body: ChannelCreate, etag: true, responses: { 201: Channel } }),
    async (req, reply) => {
      const b = parse(ChannelCreate, req.body);
      // A retry must not connect the account twice: the answer commits with the channel.
      const created = await write(ctx, req, 201, async (tx, scope) => withUrl(req)(await channels.create(tx, scope, ctx.sealer, b)));
      return reply.code(201).send(created);
    },
  );

  app.get('/channels/:id', doc({ summary: 'Read a channel', tag: TAG, params: Params, etag: true, responses: { 200: Channel } }), async (req) =>
    withUrl(req)(await channels.get(ctx.db, scopeOf(req), ctx.sealer, pathId(req.params, 'ch', 'Channel'))),
  );

  app.patch(
    '/channels/:id',
    doc({ summary: 'Update a channel', tag: TAG, scope: 'admin', params: Params, body: ChannelPatch, etag: true, responses: { 200: Channel } }),
    async (req) => {
      const id = pathId(req.params, 'ch', 'Channel');
      const b = parse(ChannelPatch, req.body);
      return write(ctx, req, 200, async (tx, scope) => withUrl(req)(await channels.update(tx, scope, ctx.sealer, id, b)));
    },
  );

  app.delete(
    '/channels/:id',
    doc({ summary: 'Delete a channel and its listings', tag: TAG, scope: 'admin', params: Params, responses: { 204: null } }),
    async (req, reply) => {
      const id = pathId(req.params, 'ch', 'Channel');
      await write(ctx, req, 204, (tx, scope) => channels.remove(tx, scope, id));
      return reply.code(204).send();
    },
  );

  // A channel failure is an answer here (ok: false), never a 5xx.
  app.post(
    '/channels/:id/test',
    doc({ summary: 'Test the connection (a failure is ok: false)', tag: TAG, scope: 'admin', params: Params, responses: { 200: ChannelTest } }),
    async (req) => {
      const id = pathId(req.params, 'ch', 'Channel');
      const out = await channels.testConnection(ctx.db, scopeOf(req), ctx.channels, id);
      if (!out.ok) req.log.info({ channel_id: id, kind: out.error.kind, err: out.error.message }, 'channel test failed');
      return out;
    },
  );

  app.post(
    '/channels/:id/pause',
    doc({ summary: 'Pause pushes', tag: TAG, scope: 'admin', params: Params, etag: true, responses: { 200: Channel } }),
    async (req) => {
      const id = pathId(req.params, 'ch', 'Channel');
      return write(ctx, req, 200, async (tx, scope) => withUrl(req)(await channels.pause(tx, scope, ctx.sealer, id)));
    },
  );

  app.post(
    '/channels/:id/resume',
    doc({ summary: 'Resume pushes', tag: TAG, scope: 'admin', params: Params, etag: true, responses: { 200: Channel } }),
    async (req) => {
      const id = pathId(req.params, 'ch', 'Channel');
      return write(ctx, req, 200, async (tx, scope) => withUrl(req)(await channels.resume(tx, scope, ctx.sealer, id)));
    },
  );

  app.post(
    '/channels/:id/import',
    doc({ summary: 'Import the channel\u2019s listings and match them by SKU', tag: TAG, params: Params, responses: { 200: ImportResult, 502: ErrorBody } }),
    async (req) => importListings(ctx.db, scopeOf(req), ctx.channels, pathId(req.params, 'ch', 'Channel')),
  );

  app.post(
    '/channels/:id/sync',
    doc({ summary: 'Push every matched listing now', tag: TAG, params: Params, responses: { 202: Queued.extend({ listings: z.number().int() }) } }),
    async (req, reply) => {
      const id = pathId(req.params, 'ch', 'Channel');
      return reply.code(202).send(await write(ctx, req, 202, (tx, scope) => channels.syncNow(tx, scope, id)));
    },
  );
}
