// Locations: the shops, kitchens and warehouses that hold stock.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { newId } from '../../domain/ids.ts';
import { withTx, type Tx } from '../../db/pool.ts';
import type { AppContext } from '../../engine/context.ts';
import { audit } from '../audit.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { doc, ErrorBody, pageOf } from '../openapi.ts';
import { page, pageQuery } from '../paging.ts';
import { checkIfMatch, versionTag } from '../plugins/etag.ts';
import { finishInTx } from '../plugins/idempotency.ts';
import { Location } from '../schemas.ts';
import { idParam, pathId, stringCursor, text } from './common.ts';

const LocationBody = z.strictObject({ name: text(1, 200) });
const ListQuery = z.strictObject({ ...pageQuery });
const Params = idParam('loc');
const TAG = 'locations';

const COLUMNS = `l.id, l.name, l.version, l.created_at,
  (select count(*) from stock_levels s where s.tenant_id = l.tenant_id and s.location_id = l.id and s.on_hand <> 0)::int as items_stocked,
  coalesce((select sum(s.on_hand) from stock_levels s where s.tenant_id = l.tenant_id and s.location_id = l.id), 0)::int as on_hand`;

const duplicate = (name: string) => new ApiError(409, 'conflict', `A location named ${name} already exists`);

export async function locationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  async function read(tenantId: string, id: string, q: Pick<Tx, 'query'> = ctx.db) {
    const { rows } = await q.query(`select ${COLUMNS} from locations l where l.tenant_id = $1 and l.id = $2`, [tenantId, id]);
    if (!rows[0]) throw notFound('Location');
    return rows[0] as { version: number } & Record<string, unknown>;
  }

  /** Locks the location and checks If-Match against its version (404, then 428 / 412). */
  async function lockVersion(tx: Tx, req: FastifyRequest, tenantId: string, id: string): Promise<void> {
    const { rows } = await tx.query<{ version: number }>(`select version from locations where tenant_id = $1 and id = $2 for update`, [tenantId, id]);
    if (!rows[0]) throw notFound('Location');
    checkIfMatch(req, rows[0].version);
  }

  app.get('/locations', doc({ summary: 'List locations', tag: TAG, query: ListQuery, responses: { 200: pageOf(Location) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    const after = stringCursor(q.cursor);
    const { rows } = await ctx.db.query(
      `select ${COLUMNS} from locations l where l.tenant_id = $1 and ($2::text is null or l.id > $2) order by l.id limit $3`,
      [req.auth.tenantId, after, q.limit + 1],
    );
    return page(rows, q.limit, (r) => r.id as string);
  });

  app.post('/locations', doc({ summary: 'Create a location', tag: TAG, body: LocationBody, etag: true, responses: { 201: Location } }), async (req, reply) => {
    const b = parse(LocationBody, req.body);
    const tenantId = req.auth.tenantId;
    const id = newId('loc');
    const created = await withTx(ctx.db, async (tx) => {
      // One location of a name per tenant (serialised per tenant so two creates cannot race).
      await tx.query(`select 1 from tenants where id = $1 for update`, [tenantId]);
      const taken = await tx.query(`select 1 from locations where tenant_id = $1 and lower(name) = lower($2)`, [tenantId, b.name]);
      if (taken.rowCount) throw duplicate(b.name);
      await tx.query(`insert into locations (tenant_id, id, name) values ($1, $2, $3)`, [tenantId, id, b.name]);
      const out = await read(tenantId, id, tx);
      await audit(tx, req, 'location.created', { type: 'location', id }, b);
      await finishInTx(tx, req, 201, out, { etag: versionTag(out.version) });
      return out;
    });
    return reply.code(201).header('etag', versionTag(created.version)).send(created);
  });

  app.get('/locations/:id', doc({ summary: 'Read a location', tag: TAG, params: Params, etag: true, responses: { 200: Location } }), async (req, reply) => {
    const loc = await read(req.auth.tenantId, pathId(req.params, 'loc', 'Location'));
    return reply.header('etag', versionTag(loc.version)).send(loc);
  });

  app.patch(
    '/locations/:id',
    doc({ summary: 'Rename a location', tag: TAG, params: Params, body: LocationBody, ifMatch: true, etag: true, responses: { 200: Location, 409: ErrorBody } }),
    async (req, reply) => {
    const id = pathId(req.params, 'loc', 'Location');
    const b = parse(LocationBody, req.body);
    const tenantId = req.auth.tenantId;
    await withTx(ctx.db, async (tx) => {
      await tx.query(`select 1 from tenants where id = $1 for update`, [tenantId]);
      await lockVersion(tx, req, tenantId, id);
      const taken = await tx.query(`select 1 from locations where tenant_id = $1 and lower(name) = lower($2) and id <> $3`, [tenantId, b.name, id]);
      if (taken.rowCount) throw duplicate(b.name);
      await tx.query(`update locations set name = $3, version = version + 1 where tenant_id = $1 and id = $2`, [tenantId, id, b.name]);
      await audit(tx, req, 'location.updated', { type: 'location', id }, b);
    });
    const loc = await read(tenantId, id);
    return reply.header('etag', versionTag(loc.version)).send(loc);
  });

  app.delete(
    '/locations/:id',
    doc({ summary: 'Delete a location (only while it holds no ledger history)', tag: TAG, params: Params, ifMatch: true, responses: { 204: null, 409: ErrorBody } }),
    async (req, reply) => {
      const id = pathId(req.params, 'loc', 'Location');
      const tenantId = req.auth.tenantId;
      await withTx(ctx.db, async (tx) => {
        await lockVersion(tx, req, tenantId, id);
        const used = await tx.query(`select 1 from stock_levels where tenant_id = $1 and location_id = $2 limit 1`, [tenantId, id]);
        if (used.rowCount) throw new ApiError(409, 'conflict', 'This location has stock history in the ledger and cannot be deleted');
        const moving = await tx.query(
          `select 1 from transfers where tenant_id = $1 and (from_location_id = $2 or to_location_id = $2)
           union all select 1 from purchase_order_lines where tenant_id = $1 and location_id = $2 limit 1`,
          [tenantId, id],
        );
        if (moving.rowCount) throw new ApiError(409, 'conflict', 'Transfers or purchase orders name this location; it cannot be deleted');
        const named = await tx.query(
          `select 1 from channels where tenant_id = $1 and (settings->'location_ids' ? $2 or exists (select 1 from jsonb_each_text(coalesce(settings->'location_map', '{}')) m where m.value = $2)) limit 1`,
          [tenantId, id],
        );
        if (named.rowCount) throw new ApiError(409, 'conflict', 'A channel draws stock from this location; change its settings first');
        await tx.query(`delete from locations where tenant_id = $1 and id = $2`, [tenantId, id]);
        await audit(tx, req, 'location.deleted', { type: 'location', id });
      });
      return reply.code(204).send();
    },
  );
}
