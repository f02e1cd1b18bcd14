// Invitations: admins invite an address with a role, list and withdraw pending ones; the invitee
// accepts with the mailed token and a password (a public route, throttled like login). The rules
// are src/services/invitations.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { withTx } from '../../db/pool.ts';
import { isRole, ROLES, type Role } from '../../domain/permissions.ts';
import type { AppContext } from '../../engine/context.ts';
import { acceptInvitation, createInvitation, listInvitations, revokeInvitation } from '../../services/invitations.ts';
import { startSession } from '../../services/sessions.ts';
import type { AuthThrottle } from '../auth-throttle.ts';
import { parse } from '../errors.ts';
import { doc, ErrorBody, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { tokenPair } from '../plugins/auth.ts';
import { Invitation } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { LinkToken, mailContext, NewPassword, origin, TokenPair } from './credentials.ts';
import { idParam, pathId, stringCursor } from './common.ts';

const TAG = 'users';
const Create = z.strictObject({ email: z.string().trim().toLowerCase().email().max(254), role: z.enum(ROLES) });
const ListQuery = z.strictObject({ ...pageQuery, status: z.enum(['pending', 'all']).default('pending') });
const Accept = z.object({ token: LinkToken, password: NewPassword });
const Accepted = z.strictObject({
  ...TokenPair,
  tenant: z.strictObject({ id: z.string() }),
  user: z.strictObject({ id: z.string(), email: z.string(), role: z.enum(ROLES) }),
});

/** The caller's role; an admin-scoped API key invites as an admin. */
const actorRole = (req: FastifyRequest): Role => (isRole(req.auth.role) ? req.auth.role : 'admin');

export async function invitationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post(
    '/invitations',
    doc({
      summary: 'Invite someone by email, with a role',
      description:
        'Mails a link (single use, 7 days) to choose a password. Inviting the address again replaces its pending invitation. Admins invite any role but owner. 409 email_taken when the address already has an account.',
      tag: TAG,
      scope: 'admin',
      body: Create,
      responses: { 201: Invitation, 409: ErrorBody },
    }),
    async (req, reply) => {
      const b = parse(Create, req.body);
      const out = await write(ctx, req, 201, (tx, scope) => createInvitation(tx, scope, actorRole(req), mailContext(ctx), b));
      return reply.code(201).send(out);
    },
  );

  app.get(
    '/invitations',
    doc({
      summary: "The tenant's invitations, newest first (pending ones unless status=all)",
      tag: TAG,
      scope: 'admin',
      query: ListQuery,
      responses: { 200: pageOf(Invitation) },
    }),
    async (req) => {
      const q = parse(ListQuery, req.query);
      return listInvitations(ctx.db, scopeOf(req), { pendingOnly: q.status === 'pending' }, { after: stringCursor(q.cursor), limit: q.limit });
    },
  );

  app.delete(
    '/invitations/:id',
    doc({
      summary: 'Withdraw a pending invitation (its link stops working)',
      tag: TAG,
      scope: 'admin',
      params: idParam('inv'),
      responses: { 204: null, 409: ErrorBody },
    }),
    async (req, reply) => {
      const id = pathId(req.params, 'inv', 'Invitation');
      await write(ctx, req, 204, (tx, scope) => revokeInvitation(tx, scope, id));
      return reply.code(204).send();
    },
  );
}

/** Public: registered with the other credential routes (src/http/routes/auth.ts), sharing their throttle. */
export async function acceptInvitationRoute(app: FastifyInstance, ctx: AppContext, throttle: AuthThrottle): Promise<void> {
  app.post(
    '/invitations/accept',
    doc({
      summary: "Accept an invitation with its mailed token and a password; returns the new user's tokens",
      description: '400 invalid_token for a used, withdrawn, replaced or expired invitation; 409 email_taken if the address got an account meanwhile.',
      tag: TAG,
      scope: 'none',
      body: Accept,
      responses: { 200: Accepted, 409: ErrorBody },
    }),
    async (req, reply) => {
      await throttle.attempt(req, reply);
      const b = parse(Accept, req.body);
      const user = await acceptInvitation(ctx.db, b.token, b.password, req.id);
      const session = await withTx(ctx.db, (tx) => startSession(tx, { tenantId: user.tenantId, userId: user.userId, ...origin(req) }));
      return { ...(await tokenPair(ctx, session)), tenant: { id: user.tenantId }, user: { id: user.userId, email: user.email, role: user.role } };
    },
  );
}
