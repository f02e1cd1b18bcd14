// Outbound webhook subscriptions (Standard Webhooks): CRUD, secret rotation with an overlap in
// which both secrets sign, pause/resume (the circuit breaker pauses too), the delivery log, the
// dead-letter list (deliveries with status `dead`) and replay of one delivery or of everything since
// a time. Delivery itself is src/engine/webhooks.ts; events are written by src/db/webhook-events.ts.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { newStandardWebhookSecret } from '../../channels/signing.ts';
import { addJobs } from '../../db/jobs.ts';
import { withTx, type Tx } from '../../db/pool.ts';
import { WEBHOOK_EVENT_FILTERS } from '../../db/webhook-events.ts';
import { newId } from '../../domain/ids.ts';
import { webhookUrlProblem } from '../../domain/webhook-url.ts';
import { resolveAlerts } from '../../services/alerts.ts';
import type { AppContext } from '../../engine/context.ts';
import { webhookJob } from '../../engine/webhooks.ts';
import { audit } from '../audit.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { page, pageQuery } from '../paging.ts';
import { finishInTx } from '../plugins/idempotency.ts';
import { timestamp } from '../schemas.ts';
import { httpUrl, idParam, numberCursor, pathId, stringCursor, text } from './common.ts';

const TAG = 'webhooks';
const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
const DAY_S = 86_400;

const eventTypes = z
  .array(z.enum(WEBHOOK_EVENT_FILTERS))
  .min(1)
  .max(WEBHOOK_EVENT_FILTERS.length)
  .meta({ description: 'Event names, families (order.*, transfer.*) or * for every event' });
const url = httpUrl.meta({ description: 'https, or http to 127.0.0.1 / localhost for development; private addresses are refused (422)' });
const Create = z.strictObject({ url, event_types: eventTypes, description: text(0, 500).optional() });
const Update = z
  .strictObject({ url: url.optional(), event_types: eventTypes.optional(), description: text(0, 500).nullable().optional() })
  .refine((b) => Object.keys(b).length > 0, { message: 'name at least one field to change' });
const Rotate = z.strictObject({
  overlap_s: z
    .number()
    .int()
    .min(0)
    .max(7 * DAY_S)
    .meta({ description: 'Seconds the previous secret keeps signing beside the new one (e.g. 86400; 0 = none)' }),
});
const ReplaySince = z.strictObject({
  since: timestamp.meta({ description: 'Replay deliveries of events created at or after this time' }),
  include_delivered: z.boolean().default(false).meta({ description: 'Also send again what was delivered (default: only dead and waiting ones)' }),
});
const ListQuery = z.strictObject({ ...pageQuery });
const DeliveriesQuery = z.strictObject({ ...pageQuery, status: z.enum(DELIVERY_STATUSES).optional().meta({ description: 'dead = the dead-letter list' }) });

const Endpoint = named(
  z.strictObject({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.string()),
    status: z.enum(['active', 'paused']),
    paused_reason: z.string().nullable().meta({ description: 'api or circuit_breaker' }),
    consecutive_failures: z.number().int(),
    previous_secret_expires_at: timestamp.nullable().meta({ description: 'Until then the previous secret signs too (rotation overlap)' }),
    created_at: timestamp,
    updated_at: timestamp,
  }),
  'WebhookEndpoint',
);
const WithSecret = named(Endpoint.extend({ secret: z.string().meta({ description: 'whsec_...: shown only in this response' }) }), 'WebhookEndpointWithSecret');
const Delivery = named(
  z.strictObject({
    id: z.string(),
    endpoint_id: z.string(),
    event_id: z.string().meta({ description: 'Sent as webhook-id: the same on every attempt and replay' }),
    event_type: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    next_attempt_at: timestamp.nullable(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    delivered_at: timestamp.nullable(),
    created_at: timestamp,
  }),
  'WebhookDelivery',
);
const Attempt = named(
  z.strictObject({
    id: z.number().int(),
    delivery_id: z.string(),
    status_code: z.number().int().nullable(),
    error: z.string().nullable(),
    duration_ms: z.number().int(),
    created_at: timestamp,
  }),
  'WebhookAttempt',
);
const DeliveryDetail = named(
  Delivery.extend({ data: z.unknown().meta({ description: 'The event payload (the body\u2019s data)' }), attempts_log: z.array(Attempt) }),
  'WebhookDeliveryDetail',
);

const EP_COLUMNS = `e.id, e.url, e.description, e.event_types, e.status, e.paused_reason, e.consecutive_failures,
  case when e.previous_secret_expires_at > now() then e.previous_secret_expires_at end as previous_secret_expires_at, e.created_at, e.updated_at`;
const DL_COLUMNS = `d.id, d.endpoint_id, d.event_id, v.type as event_type, d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.delivered_at, d.created_at`;
const AT_COLUMNS = 'a.id, a.delivery_id, a.status_code, a.error, a.duration_ms, a.created_at';

type Q = Pick<Tx, 'query'>;

function checkUrl(u: string): void {
  const problem = webhookUrlProblem(u);
  if (problem) throw new ApiError(422, 'url_not_allowed', `This URL cannot receive webhooks: ${problem}`, [{ path: 'url', message: problem }]);
}

async function readEndpoint(q: Q, tenantId: string, id: string, lock = false) {
  const { rows } = await q.query(`select ${EP_COLUMNS} from webhook_endpoints e where e.tenant_id = $1 and e.id = $2 ${lock ? 'for update' : ''}`, [tenantId, id]);
  if (!rows[0]) throw notFound('Webhook endpoint');
  return rows[0] as { id: string; status: string } & Record<string, unknown>;
}

/** Due deliveries of an active endpoint go out now (same transaction as whatever made them due). */
async function kick(tx: Q, tenantId: string, endpointId: string): Promise<void> {
  const { rows } = await tx.query(`select 1 from webhook_endpoints where tenant_id = $1 and id = $2 and status = 'active'`, [tenantId, endpointId]);
  if (rows[0]) await addJobs(tx, [webhookJob(tenantId, endpointId)]);
}

export async function webhookEndpointRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const Params = idParam('whe');
  const DParams = idParam('whd');
  const endpointId = (params: unknown) => pathId(params, 'whe', 'Webhook endpoint');

  app.get('/webhook-endpoints', doc({ summary: 'List webhook endpoints (never their secrets)', tag: TAG, query: ListQuery, responses: { 200: pageOf(Endpoint) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    const after = stringCursor(q.cursor);
    const { rows } = await ctx.db.query(
      `select ${EP_COLUMNS} from webhook_endpoints e where e.tenant_id = $1 and ($2::text is null or e.id > $2) order by e.id limit $3`,
      [req.auth.tenantId, after, q.limit + 1],
    );
    return page(rows, q.limit, (r) => r.id as string);
  });

  app.post(
    '/webhook-endpoints',
    doc({ summary: 'Subscribe a URL to events (the signing secret is shown once)', tag: TAG, scope: 'admin', body: Create, etag: true, responses: { 201: WithSecret } }),
    async (req, reply) => {
      const b = parse(Create, req.body);
      checkUrl(b.url);
      const tenantId = req.auth.tenantId;
      const id = newId('whe');
      const secret = newStandardWebhookSecret();
      const out = await withTx(ctx.db, async (tx) => {
        await tx.query(
          `insert into webhook_endpoints (tenant_id, id, url, description, event_types, secret_sealed) values ($1, $2, $3, $4, $5, $6)`,
          [tenantId, id, b.url, b.description ?? null, [...new Set(b.event_types)], ctx.sealer.seal({ secret })],
        );
        const res = { ...(await readEndpoint(tx, tenantId, id)), secret };
        await audit(tx, req, 'webhook_endpoint.created', { type: 'webhook_endpoint', id }, { url: b.url, event_types: b.event_types });
        await finishInTx(tx, req, 201, res, {}, ctx.sealer);
        return res;
      });
      return reply.code(201).send(out);
    },
  );

  app.get('/webhook-endpoints/:id', doc({ summary: 'Read a webhook endpoint', tag: TAG, params: Params, etag: true, responses: { 200: Endpoint } }), async (req) => {
    return readEndpoint(ctx.db, req.auth.tenantId, endpointId(req.params));
  });

  app.patch(
    '/webhook-endpoints/:id',
    doc({ summary: 'Change a webhook endpoint\u2019s URL, events or description', tag: TAG, scope: 'admin', params: Params, body: Update, etag: true, responses: { 200: Endpoint, 422: ErrorBody } }),
    async (req) => {
      const id = endpointId(req.params);
      const b = parse(Update, req.body);
      if (b.url !== undefined) checkUrl(b.url);
      return withTx(ctx.db, async (tx) => {
        const { rowCount } = await tx.query(
          `update webhook_endpoints set url = coalesce($3, url), event_types = coalesce($4, event_types),
                  description = case when $5 then $6 else description end, updated_at = now()
           where tenant_id = $1 and id = $2`,
          [req.auth.tenantId, id, b.url ?? null, b.event_types ? [...new Set(b.event_types)] : null, 'description' in b, b.description ?? null],
        );
        if (!rowCount) throw notFound('Webhook endpoint');
        await audit(tx, req, 'webhook_endpoint.updated', { type: 'webhook_endpoint', id }, b);
        return readEndpoint(tx, req.auth.tenantId, id);
      });
    },
  );

  app.delete('/webhook-endpoints/:id', doc({ summary: 'Delete a webhook endpoint and its delivery log', tag: TAG, scope: 'admin', params: Params, responses: { 204: null } }), async (req, reply) => {
    const id = endpointId(req.params);
    await withTx(ctx.db, async (tx) => {
      const { rowCount } = await tx.query(`delete from webhook_endpoints where tenant_id = $1 and id = $2`, [req.auth.tenantId, id]);
      if (!rowCount) throw notFound('Webhook endpoint');
      await resolveAlerts(tx, req.auth.tenantId, 'webhook_endpoint_paused', [id]);
      await audit(tx, req, 'webhook_endpoint.deleted', { type: 'webhook_endpoint', id });
    });
    return reply.code(204).send();
  });

  app.post(
    '/webhook-endpoints/:id/rotate-secret',
    doc({
      summary: 'Rotate the signing secret: the previous one keeps signing beside it during the overlap',
      tag: TAG,
      scope: 'admin',
      params: Params,
      body: Rotate,
      etag: true,
      responses: { 200: WithSecret },
    }),
    async (req) => {
      const id = endpointId(req.params);
      const b = parse(Rotate, req.body);
      const secret = newStandardWebhookSecret();
      return withTx(ctx.db, async (tx) => {
        const { rowCount } = await tx.query(
          `update webhook_endpoints set previous_secret_sealed = secret_sealed, secret_sealed = $3,
                  previous_secret_expires_at = now() + make_interval(secs => $4), updated_at = now()
           where tenant_id = $1 and id = $2`,
          [req.auth.tenantId, id, ctx.sealer.seal({ secret }), b.overlap_s],
        );
        if (!rowCount) throw notFound('Webhook endpoint');
        const res = { ...(await readEndpoint(tx, req.auth.tenantId, id)), secret };
        await audit(tx, req, 'webhook_endpoint.secret_rotated', { type: 'webhook_endpoint', id }, { overlap_s: b.overlap_s });
        await finishInTx(tx, req, 200, res, {}, ctx.sealer);
        return res;
      });
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/webhook-endpoints/:id/${action}`,
      doc({
        summary: action === 'pause' ? 'Pause deliveries (events are still recorded for it)' : 'Resume deliveries (also after the circuit breaker paused it): what waited is sent',
        tag: TAG,
        scope: 'admin',
        params: Params,
        etag: true,
        responses: { 200: Endpoint },
      }),
      async (req) => {
        const id = endpointId(req.params);
        const tenantId = req.auth.tenantId;
        return withTx(ctx.db, async (tx) => {
          const { rowCount } =
            action === 'pause'
              ? await tx.query(`update webhook_endpoints set status = 'paused', paused_reason = 'api', updated_at = now() where tenant_id = $1 and id = $2`, [tenantId, id])
              : await tx.query(
                  `update webhook_endpoints set status = 'active', paused_reason = null, consecutive_failures = 0, failing_since = null, updated_at = now()
                   where tenant_id = $1 and id = $2`,
                  [tenantId, id],
                );
          if (!rowCount) throw notFound('Webhook endpoint');
          if (action === 'resume') {
            // What waited while paused is due now; the schedule starts again for it.
            await tx.query(`update webhook_deliveries set next_attempt_at = now() where tenant_id = $1 and endpoint_id = $2 and status = 'pending'`, [tenantId, id]);
            await resolveAlerts(tx, tenantId, 'webhook_endpoint_paused', [id]);
            await kick(tx, tenantId, id);
          }
          const out = await readEndpoint(tx, tenantId, id);
          await audit(tx, req, `webhook_endpoint.${action === 'pause' ? 'paused' : 'resumed'}`, { type: 'webhook_endpoint', id });
          await finishInTx(tx, req, 200, out);
          return out;
        });
      },
    );
  }

  app.get(
    '/webhook-endpoints/:id/deliveries',
    doc({ summary: 'Deliveries to this endpoint, newest first (status=dead is the dead-letter list)', tag: TAG, params: Params, query: DeliveriesQuery, responses: { 200: pageOf(Delivery) } }),
    async (req) => {
      const id = endpointId(req.params);
      const q = parse(DeliveriesQuery, req.query);
      const before = stringCursor(q.cursor);
      await readEndpoint(ctx.db, req.auth.tenantId, id);
      const { rows } = await ctx.db.query(
        `select ${DL_COLUMNS} from webhook_deliveries d join webhook_events v on v.tenant_id = d.tenant_id and v.id = d.event_id
         where d.tenant_id = $1 and d.endpoint_id = $2 and ($3::text is null or d.id < $3) and ($4::text is null or d.status = $4)
         order by d.id desc limit $5`,
        [req.auth.tenantId, id, before, q.status ?? null, q.limit + 1],
      );
      return page(rows, q.limit, (r) => r.id as string);
    },
  );

  app.get(
    '/webhook-endpoints/:id/attempts',
    doc({ summary: 'The delivery log: every attempt with its status code, error and duration, newest first', tag: TAG, params: Params, query: ListQuery, responses: { 200: pageOf(Attempt) } }),
    async (req) => {
      const id = endpointId(req.params);
      const q = parse(ListQuery, req.query);
      const before = numberCursor(q.cursor);
      await readEndpoint(ctx.db, req.auth.tenantId, id);
      const { rows } = await ctx.db.query(
        `select ${AT_COLUMNS} from webhook_attempts a where a.tenant_id = $1 and a.endpoint_id = $2 and ($3::bigint is null or a.id < $3)
         order by a.id desc limit $4`,
        [req.auth.tenantId, id, before, q.limit + 1],
      );
      return page(
        rows.map((r) => ({ ...r, id: Number(r.id) })),
        q.limit,
        (r) => r.id,
      );
    },
  );

  app.post(
    '/webhook-endpoints/:id/replay',
    doc({
      summary: 'Replay every delivery of events since a time (dead and waiting ones; optionally delivered ones too)',
      tag: TAG,
      params: Params,
      body: ReplaySince,
      responses: { 202: z.strictObject({ replayed: z.number().int() }) },
    }),
    async (req, reply) => {
      const id = endpointId(req.params);
      const b = parse(ReplaySince, req.body);
      const tenantId = req.auth.tenantId;
      const out = await withTx(ctx.db, async (tx) => {
        await readEndpoint(tx, tenantId, id, true);
        const { rowCount } = await tx.query(
          `update webhook_deliveries d set status = 'pending', retry_index = 0, next_attempt_at = now(), updated_at = now()
           from webhook_events v
           where d.tenant_id = $1 and d.endpoint_id = $2 and v.tenant_id = d.tenant_id and v.id = d.event_id and v.created_at >= $3
             and (d.status <> 'delivered' or $4)`,
          [tenantId, id, b.since, b.include_delivered],
        );
        await kick(tx, tenantId, id);
        const res = { replayed: rowCount ?? 0 };
        await audit(tx, req, 'webhook_endpoint.replayed', { type: 'webhook_endpoint', id }, { since: b.since, include_delivered: b.include_delivered, replayed: res.replayed });
        await finishInTx(tx, req, 202, res);
        return res;
      });
      return reply.code(202).send(out);
    },
  );

  async function readDelivery(q: Q, tenantId: string, id: string) {
    const { rows } = await q.query(
      `select ${DL_COLUMNS}, v.payload as data from webhook_deliveries d join webhook_events v on v.tenant_id = d.tenant_id and v.id = d.event_id
       where d.tenant_id = $1 and d.id = $2`,
      [tenantId, id],
    );
    if (!rows[0]) throw notFound('Webhook delivery');
    const { rows: log } = await q.query(`select ${AT_COLUMNS} from webhook_attempts a where a.tenant_id = $1 and a.delivery_id = $2 order by a.id`, [tenantId, id]);
    return { ...rows[0], attempts_log: log.map((r) => ({ ...r, id: Number(r.id) })) } as { endpoint_id: string } & Record<string, unknown>;
  }

  app.get('/webhook-deliveries/:id', doc({ summary: 'Read a delivery with its payload and attempts', tag: TAG, params: DParams, etag: true, responses: { 200: DeliveryDetail } }), async (req) => {
    return readDelivery(ctx.db, req.auth.tenantId, pathId(req.params, 'whd', 'Webhook delivery'));
  });

  app.post(
    '/webhook-deliveries/:id/replay',
    doc({ summary: 'Send one delivery again (same webhook-id), e.g. from the dead-letter list', tag: TAG, params: DParams, etag: true, responses: { 202: DeliveryDetail } }),
    async (req, reply) => {
      const id = pathId(req.params, 'whd', 'Webhook delivery');
      const tenantId = req.auth.tenantId;
      const out = await withTx(ctx.db, async (tx) => {
        const { rows } = await tx.query<{ endpoint_id: string }>(
          `update webhook_deliveries set status = 'pending', retry_index = 0, next_attempt_at = now(), updated_at = now()
           where tenant_id = $1 and id = $2 returning endpoint_id`,
          [tenantId, id],
        );
        if (!rows[0]) throw notFound('Webhook delivery');
        await kick(tx, tenantId, rows[0].endpoint_id);
        const res = await readDelivery(tx, tenantId, id);
        await audit(tx, req, 'webhook_delivery.replayed', { type: 'webhook_delivery', id });
        await finishInTx(tx, req, 202, res);
        return res;
      });
      return reply.code(202).send(out);
    },
  );
}
