// Publishing products to marketplaces (issue 13): one product to some channels, or many as a bulk
// job with progress that can be paused and resumed. With `dry_run: true` the answer is the exact
// requests each channel would receive (method, URL, body) and what they cost against its budget,
// and nothing is sent; without it the actions are queued as jobs (202) whose state the publication
// resources show.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CATALOG_ACTIONS, type CatalogAction } from '../../channels/contract.ts';
import type { AppContext } from '../../engine/context.ts';
import { mediaUrlOf } from '../../engine/publishing.ts';
import * as bulk from '../../services/publishing-bulk.ts';
import * as publishing from '../../services/publishing.ts';
import { parse } from '../errors.ts';
import { doc, named } from '../openapi.ts';
import { timestamp } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { idRef, pathId } from './common.ts';

const TAG = 'publishing';
const Action = z.enum(CATALOG_ACTIONS as [CatalogAction, ...CatalogAction[]]);
const ChannelIds = z.array(idRef('ch')).min(1).max(20);
const Publish = z.strictObject({
  channel_ids: ChannelIds,
  dry_run: z.boolean().optional().meta({ description: 'true: answer with the requests that would be sent, and send nothing' }),
  action: Action.optional().meta({ description: 'Default publish (an update where the product is already live)' }),
});
const Bulk = z
  .strictObject({
    product_ids: z.array(idRef('prd')).min(1).max(5000).optional(),
    all: z.literal(true).optional().meta({ description: 'Every active product instead of a list' }),
    channel_ids: ChannelIds,
    action: Action.optional(),
    dry_run: z.boolean().optional(),
  })
  .refine((b) => Boolean(b.product_ids) !== Boolean(b.all), 'Send product_ids or all: true (one of them)');
const PubQuery = z.strictObject({
  channel_id: idRef('ch').optional(),
  product_id: idRef('prd').optional(),
  state: z.enum(publishing.PUBLICATION_STATES).optional(),
});
const Params = z.object({ id: z.string() });

const PlannedRequest = z.strictObject({
  channel_id: z.string(),
  action: z.string(),
  label: z.string(),
  method: z.string(),
  url: z.string(),
  body: z.unknown(),
  upload: z.strictObject({ field: z.string(), imageUrl: z.string(), contentType: z.string() }).optional(),
});
const DryRun = named(
  z.strictObject({
    dry_run: z.literal(true),
    requests: z.array(PlannedRequest),
    requests_total: z.number().int().optional(),
    problems: z
      .array(z.strictObject({ product_id: z.string(), channel_id: z.string(), message: z.string() }))
      .describe('What a channel will refuse as the product stands (no requests are listed for it): fix these before the run.'),
    api_calls: z.number().int(),
    channels: z.array(
      z.strictObject({
        channel_id: z.string(),
        type: z.string(),
        api_calls: z.number().int(),
        per_second: z.number(),
        burst: z.number(),
        available_now: z.number().int(),
        seconds_at_budget: z.number().int(),
      }),
    ),
  }),
  'PublishDryRun',
);
const Publication = named(
  z.strictObject({
    id: z.string(),
    product_id: z.string(),
    channel_id: z.string(),
    channel_name: z.string().optional(),
    channel_type: z.string().optional(),
    state: z.string(),
    action: z.string().nullable(),
    job_id: z.string().nullable(),
    external_id: z.string().nullable(),
    refs: z.record(z.string(), z.string()),
    sent: z.unknown(),
    step: z.number().int(),
    captured: z.record(z.string(), z.string()),
    attempts: z.number().int(),
    last_error: z.string().nullable(),
    version: z.number().int(),
    created_at: timestamp,
    updated_at: timestamp,
  }),
  'Publication',
);
const Queued = named(
  z.strictObject({
    jobs: z.array(z.strictObject({ id: z.string(), publication_id: z.string(), channel_id: z.string(), action: z.string(), state: z.string() })),
  }),
  'PublishQueued',
);
const BulkJob = named(
  z.strictObject({
    id: z.string(),
    action: z.string(),
    status: z.string(),
    total: z.number().int(),
    done: z.number().int(),
    failed: z.number().int(),
    publishing: z.number().int(),
    created_at: timestamp,
    updated_at: timestamp,
  }),
  'PublicationJob',
);

export async function publishingRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const mediaUrl = mediaUrlOf(ctx);

  app.post(
    '/products/:id/publish',
    doc({
      summary: 'Publish, update, delist or relist a product on marketplace channels (or preview it with dry_run)',
      description:
        'dry_run: 200 with every request each channel would receive, in order (`{{name}}` stands for a value an earlier answer gives), and the API calls they cost against each channel budget; nothing is sent. Otherwise 202 with one job per channel: its state is the publication (GET /publications/{id}).',
      tag: TAG,
      params: z.object({ id: idRef('prd') }),
      body: Publish,
      responses: { 200: DryRun, 202: Queued },
    }),
    async (req, reply) => {
      const id = pathId(req.params, 'prd', 'Product');
      const b = parse(Publish, req.body);
      const scope = scopeOf(req);
      const channels = await publishing.catalogChannels(ctx.db, scope, ctx.channels, b.channel_ids);
      const plans = await publishing.planProduct(ctx.db, scope, channels, id, b.action ?? 'publish', mediaUrl);
      if (b.dry_run) return reply.code(200).send(await publishing.dryRunAnswer(ctx.db, scope, plans));
      publishing.assertPlannable(plans);
      const out = await write(ctx, req, 202, async (tx, s) => {
        const pubs = await publishing.requestActions(
          tx,
          s,
          plans.map((p) => ({ productId: id, channelId: p.channel.id, action: p.action })),
        );
        return { jobs: pubs.map((p) => ({ id: p.id, publication_id: p.id, channel_id: p.channel_id, action: p.action ?? 'publish', state: p.state })) };
      });
      return reply.code(202).send(out);
    },
  );

  app.get(
    '/publications',
    doc({ summary: "Products' states on marketplace channels", tag: TAG, query: PubQuery, responses: { 200: z.strictObject({ data: z.array(Publication) }) } }),
    async (req) => {
      const q = parse(PubQuery, req.query);
      return { data: await publishing.listPublications(ctx.db, scopeOf(req), { channelId: q.channel_id, productId: q.product_id, state: q.state }) };
    },
  );

  app.get(
    '/publications/:id',
    doc({
      summary: "A publication: the product's state on one channel, the platform's ids and its history",
      tag: TAG,
      params: Params,
      responses: { 200: z.strictObject({ ...Publication.shape, history: z.array(z.unknown()) }) },
    }),
    async (req) => publishing.getPublication(ctx.db, scopeOf(req), pathId(req.params, 'pub', 'Publication')),
  );

  app.post(
    '/publications/bulk',
    doc({
      summary: 'Publish or update many products on many channels as one job (or preview it with dry_run)',
      description:
        'The job runs below single actions and stock pushes inside each channel budget, and can be paused and resumed. dry_run lists the first 200 requests and counts them all.',
      tag: TAG,
      body: Bulk,
      responses: { 200: DryRun, 202: BulkJob },
    }),
    async (req, reply) => {
      const b = parse(Bulk, req.body);
      const scope = scopeOf(req);
      const channels = await publishing.catalogChannels(ctx.db, scope, ctx.channels, b.channel_ids);
      const productIds = await bulk.resolveProducts(ctx.db, scope, b.all ? null : b.product_ids!);
      if (b.dry_run) return reply.code(200).send(await bulk.bulkDryRun(ctx.db, scope, channels, productIds, b.action ?? 'publish', mediaUrl));
      const job = await write(ctx, req, 202, (tx, s) => bulk.startBulk(tx, s, channels, productIds, b.action ?? 'publish'));
      return reply.code(202).header('location', `/api/v1/publication-jobs/${job.id}`).send(job);
    },
  );

  app.get('/publication-jobs/:id', doc({ summary: "A bulk publishing job's progress", tag: TAG, params: Params, responses: { 200: BulkJob } }), async (req) =>
    bulk.getBulk(ctx.db, scopeOf(req), pathId(req.params, 'pbj', 'Publishing job')),
  );

  for (const verb of ['pause', 'resume'] as const) {
    app.post(
      `/publication-jobs/:id/${verb}`,
      doc({
        summary: verb === 'pause' ? 'Pause a bulk publishing job (what is running finishes; nothing else starts)' : 'Resume a paused bulk publishing job',
        tag: TAG,
        params: Params,
        bodyOptional: true,
        responses: { 200: BulkJob },
      }),
      async (req) => {
        const id = pathId(req.params, 'pbj', 'Publishing job');
        return write(ctx, req, 200, (tx, s) => (verb === 'pause' ? bulk.pauseBulk(tx, s, id) : bulk.resumeBulk(tx, s, id)));
      },
    );
  }
}
