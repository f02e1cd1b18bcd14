// Outbound webhook subscriptions (Standard Webhooks): CRUD, secret rotation with an overlap in
// which both secrets sign, pause/resume (the circuit breaker pauses too), the delivery log, the
// dead-letter list (deliveries with status `dead`) and replay of one delivery or of everything since
// a time. Delivery itself is src/engine/outbound-webhooks.ts; events are written by src/db/webhook-events.ts.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { WEBHOOK_EVENT_FILTERS } from '../../db/webhook-events.ts';
import type { AppContext } from '../../engine/context.ts';
import {
  createEndpoint,
  deleteEndpoint,
  DELIVERY_STATUSES,
  getDelivery,
  getEndpoint,
  listAttempts,
  listDeliveries,
  listEndpoints,
  pauseEndpoint,
  replayDelivery,
  replaySince,
  resumeEndpoint,
  rotateSecret,
  updateEndpoint,
} from '../../services/webhook-endpoints.ts';
import { parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { timestamp } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { httpUrl, idParam, numberCursor, pathId, stringCursor, text } from './common.ts';

const TAG = 'webhooks';
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

export async function webhookEndpointRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const Params = idParam('whe');
  const DParams = idParam('whd');
  const endpointId = (params: unknown) => pathId(params, 'whe', 'Webhook endpoint');

  app.get(
    '/webhook-endpoints',
    doc({ summary: 'List webhook endpoints (never their secrets)', tag: TAG, query: ListQuery, responses: { 200: pageOf(Endpoint) } }),
    async (req) => {
      const q = parse(ListQuery, req.query);
      return listEndpoints(ctx.db, scopeOf(req), { after: stringCursor(q.cursor), limit: q.limit });
    },
  );

  app.post(
    '/webhook-endpoints',
    doc({
      summary: 'Subscribe a URL to events (the signing secret is shown once)',
      tag: TAG,
      scope: 'admin',
      body: Create,
      etag: true,
      responses: { 201: WithSecret },
    }),
    async (req, reply) => {
      const b = parse(Create, req.body);
      // An idempotent retry must get the secret too: the stored answer is sealed, never plain text.
      const out = await write(ctx, req, 201, (tx, scope) => createEndpoint(tx, scope, ctx.sealer, b), { sealed: true });
      return reply.code(201).send(out);
    },
  );

  app.get(
    '/webhook-endpoints/:id',
    doc({ summary: 'Read a webhook endpoint', tag: TAG, params: Params, etag: true, responses: { 200: Endpoint } }),
    async (req) => {
      return getEndpoint(ctx.db, scopeOf(req), endpointId(req.params));
    },
  );

  app.patch(
    '/webhook-endpoints/:id',
    doc({
      summary: 'Change a webhook endpoint\u2019s URL, events or description',
      tag: TAG,
      scope: 'admin',
      params: Params,
      body: Update,
      etag: true,
      responses: { 200: Endpoint, 422: ErrorBody },
    }),
    async (req) => {
      const id = endpointId(req.params);
      const b = parse(Update, req.body);
      return write(ctx, req, 200, (tx, scope) => updateEndpoint(tx, scope, id, b));
    },
  );

  app.delete(
    '/webhook-endpoints/:id',
    doc({ summary: 'Delete a webhook endpoint and its delivery log', tag: TAG, scope: 'admin', params: Params, responses: { 204: null } }),
    async (req, reply) => {
      const id = endpointId(req.params);
      await write(ctx, req, 204, (tx, scope) => deleteEndpoint(tx, scope, id));
      return reply.code(204).send();
    },
  );

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
      return write(ctx, req, 200, (tx, scope) => rotateSecret(tx, scope, ctx.sealer, id, b.overlap_s), { sealed: true });
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/webhook-endpoints/:id/${action}`,
      doc({
        summary:
          action === 'pause'
            ? 'Pause deliveries (events are still recorded for it)'
            : 'Resume deliveries (also after the circuit breaker paused it): what waited is sent',
        tag: TAG,
        scope: 'admin',
        params: Params,
        etag: true,
        responses: { 200: Endpoint },
      }),
      async (req) => {
        const id = endpointId(req.params);
        return write(ctx, req, 200, (tx, scope) => (action === 'pause' ? pauseEndpoint(tx, scope, id) : resumeEndpoint(tx, scope, id)));
      },
    );
  }

  app.get(
    '/webhook-endpoints/:id/deliveries',
    doc({
      summary: 'Deliveries to this endpoint, newest first (status=dead is the dead-letter list)',
      tag: TAG,
      params: Params,
      query: DeliveriesQuery,
      responses: { 200: pageOf(Delivery) },
    }),
    async (req) => {
      const id = endpointId(req.params);
      const q = parse(DeliveriesQuery, req.query);
      return listDeliveries(ctx.db, scopeOf(req), id, { status: q.status }, { after: stringCursor(q.cursor), limit: q.limit });
    },
  );

  app.get(
    '/webhook-endpoints/:id/attempts',
    doc({
      summary: 'The delivery log: every attempt with its status code, error and duration, newest first',
      tag: TAG,
      params: Params,
      query: ListQuery,
      responses: { 200: pageOf(Attempt) },
    }),
    async (req) => {
      const id = endpointId(req.params);
      const q = parse(ListQuery, req.query);
      return listAttempts(ctx.db, scopeOf(req), id, { after: numberCursor(q.cursor), limit: q.limit });
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
      const out = await write(ctx, req, 202, (tx, scope) => replaySince(tx, scope, id, { since: b.since, includeDelivered: b.include_delivered }));
      return reply.code(202).send(out);
    },
  );

  app.get(
    '/webhook-deliveries/:id',
    doc({ summary: 'Read a delivery with its payload and attempts', tag: TAG, params: DParams, etag: true, responses: { 200: DeliveryDetail } }),
    async (req) => {
      return getDelivery(ctx.db, scopeOf(req), pathId(req.params, 'whd', 'Webhook delivery'));
    },
  );

  app.post(
    '/webhook-deliveries/:id/replay',
    doc({
      summary: 'Send one delivery again (same webhook-id), e.g. from the dead-letter list',
      tag: TAG,
      params: DParams,
      etag: true,
      responses: { 202: DeliveryDetail },
    }),
    async (req, reply) => {
      const id = pathId(req.params, 'whd', 'Webhook delivery');
      const out = await write(ctx, req, 202, (tx, scope) => replayDelivery(tx, scope, id));
      return reply.code(202).send(out);
    },
  );
}
