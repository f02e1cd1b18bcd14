// The team: list members, change a role, remove a member, transfer ownership (the rules are in
// src/services/users.ts; who may call what in src/domain/permissions.ts).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isRole, ROLES, type Role } from '../../domain/permissions.ts';
import type { AppContext } from '../../engine/context.ts';
import { changeRole, getUser, listUsers, removeUser, transferOwnership } from '../../services/users.ts';
import { ApiError, parse } from '../errors.ts';
import { doc, ErrorBody, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { forgetUser } from '../plugins/auth.ts';
import { User } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { idParam, pathId, stringCursor } from './common.ts';

const TAG = 'users';
const ListQuery = z.strictObject({ ...pageQuery });
const Params = idParam('usr');
const RolePatch = z.strictObject({ role: z.enum(ROLES) });

/** The caller's role; an admin-scoped API key acts as an admin. */
function actorRole(req: FastifyRequest): Role {
  return isRole(req.auth.role) ? req.auth.role : 'admin';
}

export async function userRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/users', doc({ summary: "List the tenant's users", tag: TAG, scope: 'admin', query: ListQuery, responses: { 200: pageOf(User) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    return listUsers(ctx.db, scopeOf(req), { after: stringCursor(q.cursor), limit: q.limit });
  });

  app.get('/users/:id', doc({ summary: 'Read a user', tag: TAG, scope: 'admin', params: Params, etag: true, responses: { 200: User } }), async (req) =>
    getUser(ctx.db, scopeOf(req), pathId(req.params, 'usr', 'User')),
  );

  app.patch(
    '/users/:id',
    doc({
      summary: "Change a user's role",
      description:
        'Admins give any role but owner and cannot change an owner; owners may make others owner. The last owner cannot be demoted (409 last_owner).',
      tag: TAG,
      scope: 'admin',
      params: Params,
      body: RolePatch,
      responses: { 200: User, 409: ErrorBody },
    }),
    async (req) => {
      const id = pathId(req.params, 'usr', 'User');
      const b = parse(RolePatch, req.body);
      const out = await write(ctx, req, 200, (tx, scope) => changeRole(tx, scope, actorRole(req), id, b.role));
      forgetUser(req.auth.tenantId, id);
      return out;
    },
  );

  app.delete(
    '/users/:id',
    doc({
      summary: 'Remove a user (their sessions end)',
      description: 'Owners are removed by owners only, and never the last one (409 last_owner).',
      tag: TAG,
      scope: 'admin',
      params: Params,
      responses: { 204: null, 409: ErrorBody },
    }),
    async (req, reply) => {
      const id = pathId(req.params, 'usr', 'User');
      await write(ctx, req, 204, (tx, scope) => removeUser(tx, scope, actorRole(req), id));
      forgetUser(req.auth.tenantId, id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/users/:id/transfer-ownership',
    doc({
      summary: 'Make this user the owner; the calling owner becomes an admin',
      tag: TAG,
      scope: 'owner',
      params: Params,
      responses: { 200: User, 409: ErrorBody },
    }),
    async (req) => {
      const id = pathId(req.params, 'usr', 'User');
      const from = req.auth.userId;
      if (!from) throw new ApiError(403, 'forbidden', 'Only an owner, logged in, can transfer ownership');
      const out = await write(ctx, req, 200, (tx, scope) => transferOwnership(tx, scope, from, id));
      forgetUser(req.auth.tenantId, id);
      forgetUser(req.auth.tenantId, from);
      return out;
    },
  );
}
