// Transfers between locations. Creating one takes the stock out of the source at once
// (transfer_out movements; all lines or nothing: 409 insufficient_stock when the source has less
// available, i.e. on_hand - reserved); receiving puts it into the destination (transfer_in,
// partial receipts allowed, never more than was sent: 422 over_receipt); cancelling returns what
// is still in transit to the source (transfer_in at the source). Rows, movements and the audit
// entry commit in one transaction.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { withTx, type Tx } from '../../db/pool.ts';
import { newId } from '../../domain/ids.ts';
import type { AppContext } from '../../engine/context.ts';
import { applyMovements } from '../../ledger/ledger.ts';
import { audit } from '../audit.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { page, pageQuery } from '../paging.ts';
import { checkIfMatch, versionTag } from '../plugins/etag.ts';
import { finishInTx } from '../plugins/idempotency.ts';
import { timestamp } from '../schemas.ts';
import { idParam, idRef, objectBody, pathId, refuseKits, stringCursor, text } from './common.ts';

const MAX_QTY = 1_000_000;
const qty = z.number().int().min(1).max(MAX_QTY);
const oneLinePerItem = (lines: Array<{ item_id: string }> | undefined) => !lines || new Set(lines.map((l) => l.item_id)).size === lines.length;

const TransferCreate = z
  .strictObject({
    from_location_id: idRef('loc'),
    to_location_id: idRef('loc'),
    reference: text(1, 200).optional(),
    lines: z.array(z.strictObject({ item_id: idRef('item'), qty })).min(1).max(100),
  })
  .refine((b) => b.from_location_id !== b.to_location_id, { path: ['to_location_id'], message: 'must differ from from_location_id' })
  .refine((b) => oneLinePerItem(b.lines), { path: ['lines'], message: 'one line per item' });
const TransferReceive = z
  .strictObject({
    lines: z
      .array(z.strictObject({ item_id: idRef('item'), qty }))
      .min(1)
      .max(100)
      .optional()
      .meta({ description: 'What arrived; without lines, everything still in transit arrives' }),
  })
  .refine((b) => oneLinePerItem(b.lines), { path: ['lines'], message: 'one line per item' });
const TransferPatch = z.strictObject({ reference: text(1, 200).nullable() });

const STATUSES = ['in_transit', 'partially_received', 'received', 'cancelled'] as const;
const TransfersQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(STATUSES).optional(),
  from_location_id: idRef('loc').optional(),
  to_location_id: idRef('loc').optional(),
  item_id: idRef('item').optional(),
});

const Transfer = named(
  z.strictObject({
    id: z.string(),
    status: z.enum(STATUSES),
    from_location_id: z.string(),
    to_location_id: z.string(),
    reference: z.string().nullable(),
    version: z.number().int(),
    lines: z.array(
      z.strictObject({
        item_id: z.string(),
        qty: z.number().int().meta({ description: 'Sent from the source' }),
        received_qty: z.number().int(),
        returned_qty: z.number().int().meta({ description: 'Sent back to the source by a cancel' }),
      }),
    ),
    created_at: timestamp,
    updated_at: timestamp,
  }),
  'Transfer',
);

type Q = Pick<Tx, 'query'>;
const TAG = 'transfers';

async function readTransfer(q: Q, tenantId: string, id: string) {
  const { rows } = await q.query(
    `select t.id, t.status, t.from_location_id, t.to_location_id, t.reference, t.version, t.created_at, t.updated_at,
            coalesce((select json_agg(json_build_object('item_id', l.item_id, 'qty', l.qty, 'received_qty', l.received_qty, 'returned_qty', l.returned_qty) order by l.item_id)
                      from transfer_lines l where l.tenant_id = t.tenant_id and l.transfer_id = t.id), '[]') as lines
     from transfers t where t.tenant_id = $1 and t.id = $2`,
    [tenantId, id],
  );
  if (!rows[0]) throw notFound('Transfer');
  return rows[0] as { version: number; status: string } & Record<string, unknown>;
}

/** 404 unless both locations and every item belong to the tenant. */
async function checkRefs(q: Q, tenantId: string, locationIds: string[], itemIds: string[]): Promise<void> {
  const { rows } = await q.query<{ locations: number; items: number }>(
    `select (select count(*) from locations where tenant_id = $1 and id = any($2))::int as locations,
            (select count(*) from items where tenant_id = $1 and id = any($3))::int as items`,
    [tenantId, locationIds, itemIds],
  );
  if (rows[0]!.locations !== new Set(locationIds).size) throw notFound('Location');
  if (rows[0]!.items !== new Set(itemIds).size) throw notFound('Item');
  await refuseKits(q, tenantId, itemIds);
}

/**
 * Locks the source levels (in the ledger's lock order) and refuses the whole transfer when any
 * line wants more than is available there. The row locks serialise against every other writer of
 * these levels (ledger, reservations) until this transaction commits.
 */
async function takeFromSource(tx: Tx, tenantId: string, locationId: string, lines: Array<{ item_id: string; qty: number }>): Promise<void> {
  const { rows } = await tx.query<{ item_id: string; available: number }>(
    `select item_id, on_hand - reserved as available from stock_levels
     where tenant_id = $1 and location_id = $2 and item_id = any($3) order by item_id for update`,
    [tenantId, locationId, lines.map((l) => l.item_id)],
  );
  const available = new Map(rows.map((r) => [r.item_id, r.available]));
  const short = lines
    .map((l) => ({ item_id: l.item_id, location_id: locationId, available: Math.max(0, available.get(l.item_id) ?? 0), wanted: l.qty }))
    .filter((s) => s.available < s.wanted);
  if (short.length) {
    const s = short[0]!;
    throw new ApiError(409, 'insufficient_stock', `Only ${s.available} available of ${s.item_id} at ${s.location_id}; ${s.wanted} wanted`, { lines: short });
  }
}

export async function transferRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const Params = idParam('trf');

  app.get('/transfers', doc({ summary: 'List transfers, newest first', tag: TAG, query: TransfersQuery, responses: { 200: pageOf(Transfer) } }), async (req) => {
    const q = parse(TransfersQuery, req.query);
    const before = stringCursor(q.cursor);
    const { rows } = await ctx.db.query<{ id: string }>(
      `select t.id from transfers t
       where t.tenant_id = $1 and ($2::text is null or t.id < $2) and ($3::text is null or t.status = $3)
         and ($4::text is null or t.from_location_id = $4) and ($5::text is null or t.to_location_id = $5)
         and ($6::text is null or exists (select 1 from transfer_lines l where l.tenant_id = t.tenant_id and l.transfer_id = t.id and l.item_id = $6))
       order by t.id desc limit $7`,
      [req.auth.tenantId, before, q.status ?? null, q.from_location_id ?? null, q.to_location_id ?? null, q.item_id ?? null, q.limit + 1],
    );
    const p = page(rows, q.limit, (r) => r.id);
    const data = [];
    for (const r of p.data) data.push(await readTransfer(ctx.db, req.auth.tenantId, r.id));
    return { data, next_cursor: p.next_cursor };
  });

  app.post(
    '/transfers',
    doc({
      summary: 'Send stock to another location: it leaves the source now (transfer_out) and is in transit until received',
      tag: TAG,
      body: TransferCreate,
      etag: true,
      responses: { 201: Transfer, 409: ErrorBody },
    }),
    async (req, reply) => {
      const b = parse(TransferCreate, req.body);
      const tenantId = req.auth.tenantId;
      const id = newId('trf');
      const lines = [...b.lines].sort((x, y) => (x.item_id < y.item_id ? -1 : 1));
      const out = await withTx(ctx.db, async (tx) => {
        await checkRefs(tx, tenantId, [b.from_location_id, b.to_location_id], lines.map((l) => l.item_id));
        await takeFromSource(tx, tenantId, b.from_location_id, lines);
        await tx.query(
          `insert into transfers (tenant_id, id, from_location_id, to_location_id, reference, status) values ($1, $2, $3, $4, $5, 'in_transit')`,
          [tenantId, id, b.from_location_id, b.to_location_id, b.reference ?? null],
        );
        await tx.query(
          `insert into transfer_lines (tenant_id, transfer_id, item_id, qty) select $1, $2, x.item_id, x.qty from jsonb_to_recordset($3::jsonb) as x(item_id text, qty int)`,
          [tenantId, id, JSON.stringify(lines)],
        );
        await applyMovements(
          tx,
          tenantId,
          lines.map((l) => ({ itemId: l.item_id, locationId: b.from_location_id, qtyDelta: -l.qty, reason: 'transfer_out' as const, sourceUserId: req.auth.actorId, note: `transfer ${id}` })),
        );
        const t = await readTransfer(tx, tenantId, id);
        await audit(tx, req, 'transfer.created', { type: 'transfer', id }, b);
        await finishInTx(tx, req, 201, t, { etag: versionTag(t.version) });
        return t;
      });
      return reply.code(201).header('etag', versionTag(out.version)).send(out);
    },
  );

  app.get('/transfers/:id', doc({ summary: 'Read a transfer', tag: TAG, params: Params, etag: true, responses: { 200: Transfer } }), async (req, reply) => {
    const t = await readTransfer(ctx.db, req.auth.tenantId, pathId(req.params, 'trf', 'Transfer'));
    return reply.header('etag', versionTag(t.version)).send(t);
  });

  app.patch(
    '/transfers/:id',
    doc({ summary: 'Change a transfer\u2019s reference', tag: TAG, params: Params, body: TransferPatch, ifMatch: true, etag: true, responses: { 200: Transfer } }),
    async (req, reply) => {
      const id = pathId(req.params, 'trf', 'Transfer');
      const b = parse(TransferPatch, req.body);
      const tenantId = req.auth.tenantId;
      const t = await withTx(ctx.db, async (tx) => {
        const { rows } = await tx.query<{ version: number }>(`select version from transfers where tenant_id = $1 and id = $2 for update`, [tenantId, id]);
        if (!rows[0]) throw notFound('Transfer');
        checkIfMatch(req, rows[0].version);
        await tx.query(`update transfers set reference = $3, version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [tenantId, id, b.reference]);
        await audit(tx, req, 'transfer.updated', { type: 'transfer', id }, b);
        return readTransfer(tx, tenantId, id);
      });
      return reply.header('etag', versionTag(t.version)).send(t);
    },
  );

  /** Locks a transfer still (partly) in transit, with its lines (404, or 409 from another state). */
  async function lockInTransit(tx: Tx, req: FastifyRequest, action: string) {
    const id = pathId(req.params, 'trf', 'Transfer');
    const { rows } = await tx.query<{ status: string; from_location_id: string; to_location_id: string }>(
      `select status, from_location_id, to_location_id from transfers where tenant_id = $1 and id = $2 for update`,
      [req.auth.tenantId, id],
    );
    const t = rows[0];
    if (!t) throw notFound('Transfer');
    if (t.status !== 'in_transit' && t.status !== 'partially_received') {
      throw new ApiError(409, 'conflict', `This transfer is ${t.status}; it cannot be ${action}`, { status: t.status });
    }
    const { rows: lines } = await tx.query<{ item_id: string; qty: number; received_qty: number }>(
      `select item_id, qty, received_qty from transfer_lines where tenant_id = $1 and transfer_id = $2 order by item_id`,
      [req.auth.tenantId, id],
    );
    return { id, ...t, lines };
  }

  app.post(
    '/transfers/:id/receive',
    doc({
      summary: 'Receive a transfer, wholly or in part: transfer_in movements at the destination',
      tag: TAG,
      params: Params,
      body: TransferReceive,
      etag: true,
      responses: { 200: Transfer, 409: ErrorBody, 422: ErrorBody },
    }),
    async (req, reply) => {
      const b = parse(TransferReceive, objectBody(req.body));
      const tenantId = req.auth.tenantId;
      const out = await withTx(ctx.db, async (tx) => {
        const t = await lockInTransit(tx, req, 'received');
        const outstanding = new Map(t.lines.map((l) => [l.item_id, l.qty - l.received_qty]));
        const arriving = (b.lines ?? t.lines.map((l) => ({ item_id: l.item_id, qty: l.qty - l.received_qty }))).filter((l) => l.qty > 0);
        const over = arriving
          .filter((l) => l.qty > (outstanding.get(l.item_id) ?? 0))
          .map((l) => ({ item_id: l.item_id, outstanding: outstanding.get(l.item_id) ?? 0, qty: l.qty, on_transfer: outstanding.has(l.item_id) }));
        if (over.length) {
          const o = over[0]!;
          throw new ApiError(
            422,
            'over_receipt',
            o.on_transfer ? `Only ${o.outstanding} of ${o.item_id} is still in transit; ${o.qty} cannot be received` : `${o.item_id} is not on this transfer`,
            { lines: over },
          );
        }
        await tx.query(
          `update transfer_lines l set received_qty = l.received_qty + x.qty
           from jsonb_to_recordset($3::jsonb) as x(item_id text, qty int)
           where l.tenant_id = $1 and l.transfer_id = $2 and l.item_id = x.item_id`,
          [tenantId, t.id, JSON.stringify(arriving)],
        );
        await applyMovements(
          tx,
          tenantId,
          [...arriving]
            .sort((x, y) => (x.item_id < y.item_id ? -1 : 1))
            .map((l) => ({ itemId: l.item_id, locationId: t.to_location_id, qtyDelta: l.qty, reason: 'transfer_in' as const, sourceUserId: req.auth.actorId, note: `transfer ${t.id}` })),
        );
        await tx.query(
          `update transfers t set version = version + 1, updated_at = now(),
             status = case when exists (select 1 from transfer_lines l where l.tenant_id = t.tenant_id and l.transfer_id = t.id and l.received_qty < l.qty)
                           then 'partially_received' else 'received' end
           where t.tenant_id = $1 and t.id = $2`,
          [tenantId, t.id],
        );
        const res = await readTransfer(tx, tenantId, t.id);
        await audit(tx, req, 'transfer.received', { type: 'transfer', id: t.id }, { lines: arriving });
        await finishInTx(tx, req, 200, res, { etag: versionTag(res.version) });
        return res;
      });
      return reply.header('etag', versionTag(out.version)).send(out);
    },
  );

  app.post(
    '/transfers/:id/cancel',
    doc({
      summary: 'Cancel a transfer in transit: what has not arrived goes back to the source (transfer_in there)',
      tag: TAG,
      params: Params,
      etag: true,
      responses: { 200: Transfer, 409: ErrorBody },
    }),
    async (req, reply) => {
      const tenantId = req.auth.tenantId;
      const out = await withTx(ctx.db, async (tx) => {
        const t = await lockInTransit(tx, req, 'cancelled');
        const back = t.lines.map((l) => ({ item_id: l.item_id, qty: l.qty - l.received_qty })).filter((l) => l.qty > 0);
        await tx.query(`update transfer_lines set returned_qty = qty - received_qty where tenant_id = $1 and transfer_id = $2`, [tenantId, t.id]);
        await applyMovements(
          tx,
          tenantId,
          back.map((l) => ({ itemId: l.item_id, locationId: t.from_location_id, qtyDelta: l.qty, reason: 'transfer_in' as const, sourceUserId: req.auth.actorId, note: `transfer ${t.id} cancelled` })),
        );
        await tx.query(`update transfers set status = 'cancelled', version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [tenantId, t.id]);
        const res = await readTransfer(tx, tenantId, t.id);
        await audit(tx, req, 'transfer.cancelled', { type: 'transfer', id: t.id }, { returned: back });
        await finishInTx(tx, req, 200, res, { etag: versionTag(res.version) });
        return res;
      });
      return reply.header('etag', versionTag(out.version)).send(out);
    },
  );
}
