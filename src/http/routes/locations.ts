// Locations: the shops, kitchens and warehouses that hold stock.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { newId } from '../../domain/ids.ts';
import { withTx } from '../../db/pool.ts';
import type { AppContext } from '../../engine/context.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { page, pageQuery } from '../paging.ts';
import { pathId, stringCursor, text } from './common.ts';

const LocationBody = z.strictObject({ name: text(1, 200) });
const ListQuery = z.strictObject({ ...pageQuery });

const COLUMNS = `l.id, l.name, l.created_at,
  (select count(*) from stock_levels s where s.tenant_id = l.tenant_id and s.location_id = l.id and s.on_hand <> 0)::int as items_stocked,
  coalesce((select sum(s.on_hand) from stock_levels s where s.tenant_id = l.tenant_id and s.location_id = l.id), 0)::int as on_hand`;

const duplicate = (name: string) => new ApiError(409, 'conflict', `A location named ${name} already exists`);

export async function locationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  async function read(tenantId: string, id: string) {
    const { rows } = await ctx.db.query(`select ${COLUMNS} from locations l where l.tenant_id = $1 and l.id = $2`, [tenantId, id]);
    if (!rows[0]) throw notFound('Location');
    return rows[0];
  }

  app.get('/locations', async (req) => {
    const q = parse(ListQuery, req.query);
    const after = stringCursor(q.cursor);
    const { rows } = await ctx.db.query(
      `select ${COLUMNS} from locations l where l.tenant_id = $1 and ($2::text is null or l.id > $2) order by l.id limit $3`,
      [req.auth.tenantId, after, q.limit + 1],
    );
    return page(rows, q.limit, (r) => r.id as string);
  });

  app.post('/locations', async (req, reply) => {
    const b = parse(LocationBody, req.body);
    const tenantId = req.auth.tenantId;
    const id = newId('loc');
    await withTx(ctx.db, async (tx) => {
      // One location of a name per tenant (serialised per tenant so two creates cannot race).
      await tx.query(`select 1 from tenants where id = $1 for update`, [tenantId]);
      const taken = await tx.query(`select 1 from locations where tenant_id = $1 and lower(name) = lower($2)`, [tenantId, b.name]);
      if (taken.rowCount) throw duplicate(b.name);
      await tx.query(`insert into locations (tenant_id, id, name) values ($1, $2, $3)`, [tenantId, id, b.name]);
    });
    return reply.code(201).send(await read(tenantId, id));
  });

  app.get('/locations/:id', async (req) => read(req.auth.tenantId, pathId(req.params, 'loc', 'Location')));

  app.patch('/locations/:id', async (req) => {
    const id = pathId(req.params, 'loc', 'Location');
    const b = parse(LocationBody, req.body);
    const tenantId = req.auth.tenantId;
    await withTx(ctx.db, async (tx) => {
      await tx.query(`select 1 from tenants where id = $1 for update`, [tenantId]);
      const found = await tx.query(`select 1 from locations where tenant_id = $1 and id = $2`, [tenantId, id]);
      if (!found.rowCount) throw notFound('Location');
      const taken = await tx.query(`select 1 from locations where tenant_id = $1 and lower(name) = lower($2) and id <> $3`, [tenantId, b.name, id]);
      if (taken.rowCount) throw duplicate(b.name);
      await tx.query(`update locations set name = $3 where tenant_id = $1 and id = $2`, [tenantId, id, b.name]);
    });
    return read(tenantId, id);
  });
}
