// Locations: the shops, kitchens and warehouses that hold stock (rules in src/services/locations.ts).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import * as locations from '../../services/locations.ts';
import { parse } from '../errors.ts';
import { doc, ErrorBody, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { checkIfMatch, versionTag } from '../plugins/etag.ts';
import { scopeOf } from '../scope.ts';
import { Location } from '../schemas.ts';
import { write } from '../tx.ts';
import { idParam, pathId, stringCursor, text } from './common.ts';

const LocationBody = z.strictObject({ name: text(1, 200) });
const ListQuery = z.strictObject({ ...pageQuery });
const Params = idParam('loc');
const TAG = 'locations';

export async function locationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/locations', doc({ summary: 'List locations', tag: TAG, query: ListQuery, responses: { 200: pageOf(Location) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    return locations.list(ctx.db, scopeOf(req), { after: stringCursor(q.cursor), limit: q.limit });
  });

  app.post('/locations', doc({ summary: 'Create a location', tag: TAG, body: LocationBody, etag: true, responses: { 201: Location } }), async (req, reply) => {
    const b = parse(LocationBody, req.body);
    const created = await write(
      ctx,
      req,
      201,
      (tx, scope) => locations.create(tx, scope, b),
      (out) => ({ etag: versionTag(out.version) }),
    );
    return reply.code(201).header('etag', versionTag(created.version)).send(created);
  });

  app.get('/locations/:id', doc({ summary: 'Read a location', tag: TAG, params: Params, etag: true, responses: { 200: Location } }), async (req, reply) => {
    const loc = await locations.get(ctx.db, scopeOf(req), pathId(req.params, 'loc', 'Location'));
    return reply.header('etag', versionTag(loc.version)).send(loc);
  });

  app.patch(
    '/locations/:id',
    doc({
      summary: 'Rename a location',
      tag: TAG,
      params: Params,
      body: LocationBody,
      ifMatch: true,
      etag: true,
      responses: { 200: Location, 409: ErrorBody },
    }),
    async (req, reply) => {
      const id = pathId(req.params, 'loc', 'Location');
      const b = parse(LocationBody, req.body);
      const loc = await write(ctx, req, 200, (tx, scope) => locations.rename(tx, scope, id, b, (v) => checkIfMatch(req, v)));
      return reply.header('etag', versionTag(loc.version)).send(loc);
    },
  );

  app.delete(
    '/locations/:id',
    doc({
      summary: 'Delete a location (only while it holds no ledger history)',
      tag: TAG,
      params: Params,
      ifMatch: true,
      responses: { 204: null, 409: ErrorBody },
    }),
    async (req, reply) => {
      const id = pathId(req.params, 'loc', 'Location');
      await write(ctx, req, 204, (tx, scope) => locations.remove(tx, scope, id, (v) => checkIfMatch(req, v)));
      return reply.code(204).send();
    },
  );
}
