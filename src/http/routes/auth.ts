// Accounts: register (creates the tenant and its owner) and login start a session: a 15-minute
// access token and a refresh token that works once (refresh rotates it); logout ends the session.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { withTx } from '../../db/pool.ts';
import { PERMISSIONS } from '../../domain/permissions.ts';
import { auditFailedLogin, auditLogin, login, register, whoAmI } from '../../services/accounts.ts';
import { activeImpersonations } from '../../services/impersonation.ts';
import { impersonationView, ImpersonationView } from './impersonation.ts';
import { endSession, rotateRefreshToken, sessionOfRefreshToken, startSession } from '../../services/sessions.ts';
import { ALERT_EMAIL_CHOICES, setAlertEmail } from '../../services/alert-email.ts';
import { resendVerification, verifyEmail } from '../../services/email-verification.ts';
import { changePassword, confirmPasswordReset, requestPasswordReset } from '../../services/passwords.ts';
import { AuthThrottle } from '../auth-throttle.ts';
import { LinkToken, mailContext, NewPassword, origin, TokenPair } from './credentials.ts';
import { acceptInvitationRoute } from './invitations.ts';
import { ApiError, parse } from '../errors.ts';
import { ErrorBody } from '../openapi.ts';
import { doc, named } from '../openapi.ts';
import { forgetSession, forgetUser, requireAuth, tokenPair } from '../plugins/auth.ts';
import { scopeOf } from '../scope.ts';

const Tokens = named(z.strictObject(TokenPair), 'TokenPair');
const Registered = z.strictObject({
  ...TokenPair,
  tenant: z.strictObject({ id: z.string(), name: z.string() }),
  user: z.strictObject({ id: z.string(), email: z.string(), role: z.string() }),
  location: z.strictObject({ id: z.string(), name: z.string() }),
});
const Me = named(
  z.strictObject({
    user: z
      .strictObject({
        id: z.string(),
        email: z.string(),
        role: z.string(),
        email_verified: z.boolean().meta({ description: 'Alert emails go to verified addresses only' }),
        alert_email: z.enum(ALERT_EMAIL_CHOICES),
      })
      .nullable()
      .meta({ description: 'null for an API key' }),
    tenant: z.strictObject({ id: z.string(), name: z.string(), guardian_interval_s: z.number().int(), drift_threshold: z.number().int() }),
    credential: z.strictObject({
      type: z.enum(['user', 'api_key', 'platform_key', 'operator']),
      id: z.string(),
      scopes: z.array(z.enum(PERMISSIONS)).meta({ description: "A key's scopes; a user's role's permissions" }),
    }),
    impersonations: z.array(ImpersonationView),
  }),
  'Me',
);

/** What /me answers: the user (null for keys and impersonating operators), the tenant, the credential, and who is looking in. */
async function meOf(ctx: AppContext, req: FastifyRequest) {
  const { tenantId, userId } = req.auth;
  const [{ user, tenant }, imps] = await Promise.all([whoAmI(ctx.db, tenantId, userId), activeImpersonations(ctx.db, tenantId)]);
  return {
    user,
    tenant,
    credential: { type: req.auth.actorType, id: req.auth.actorId, scopes: [...req.auth.scopes] },
    impersonations: imps.map(impersonationView),
  };
}

const email = z.string().trim().toLowerCase().email().max(254);
const Register = z.object({
  business_name: z.string().trim().min(1).max(200),
  location_name: z.string().trim().min(1).max(200).optional(),
  email,
  password: NewPassword,
});
const ResetRequest = z.object({ email });
const ResetConfirm = z.object({ token: LinkToken, password: NewPassword });
const Verify = z.object({ token: LinkToken });
const MePatch = z.strictObject({ alert_email: z.enum(ALERT_EMAIL_CHOICES).meta({ description: 'Alert emails: each alert, a daily digest, or none' }) });
const PasswordChange = z.object({ current_password: z.string().min(1).max(200), new_password: NewPassword });
const Login = z.object({ email, password: z.string().min(1).max(200) });
const Refresh = z.object({ refresh_token: z.string().min(1).max(200) });
const Logout = z.object({ refresh_token: z.string().min(1).max(200).optional() });

export async function authRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const throttle = new AuthThrottle(ctx.db, ctx.config.authThrottle);

  app.post(
    '/auth/register',
    doc({
      summary: 'Create a tenant and its owner; returns an access token and a refresh token',
      tag: 'auth',
      scope: 'none',
      body: Register,
      responses: { 201: Registered, 400: ErrorBody, 409: ErrorBody, 413: ErrorBody, 415: ErrorBody },
    }),
    async (req, reply) => {
      await throttle.attempt(req, reply);
      const body = parse(Register, req.body);
      const created = await register(ctx.db, {
        businessName: body.business_name,
        locationName: body.location_name,
        email: body.email,
        password: body.password,
        guardianIntervalS: ctx.config.guardianIntervalS,
        mail: mailContext(ctx),
      });
      const session = await withTx(ctx.db, (tx) => startSession(tx, { tenantId: created.tenantId, userId: created.userId, ...origin(req) }));
      return reply.code(201).send({
        ...(await tokenPair(ctx, session)),
        tenant: { id: created.tenantId, name: body.business_name },
        user: { id: created.userId, email: body.email, role: 'owner' },
        location: { id: created.locationId, name: body.location_name ?? 'Main' },
      });
    },
  );

  app.post(
    '/auth/login',
    doc({
      summary: 'Log in; returns an access token and a refresh token',
      tag: 'auth',
      scope: 'none',
      body: Login,
      responses: { 200: Tokens, 400: ErrorBody, 401: ErrorBody, 413: ErrorBody, 415: ErrorBody },
    }),
    async (req, reply) => {
      await throttle.attempt(req, reply);
      const body = parse(Login, req.body);
      await throttle.checkEmail(body.email, reply);
      const user = await login(ctx.db, body.email, body.password).catch(async (err: unknown) => {
        if (err instanceof ApiError && err.status === 401) {
          await throttle.failed(body.email);
          await auditFailedLogin(ctx.db, body.email, req.id, 'wrong_password');
        }
        throw err;
      });
      await auditLogin(ctx.db, user, req.id);
      const session = await withTx(ctx.db, (tx) => startSession(tx, { ...user, ...origin(req) }));
      return tokenPair(ctx, session);
    },
  );

  app.post(
    '/auth/refresh',
    doc({
      summary: 'Trade a refresh token for a new pair (the old one stops working)',
      description:
        'Each refresh token works once. Presenting one that was already used revokes its whole session (someone else holds a copy): every token of it answers 401 afterwards, and the reuse is audited.',
      tag: 'auth',
      scope: 'none',
      body: Refresh,
      responses: { 200: Tokens, 400: ErrorBody, 401: ErrorBody, 413: ErrorBody, 415: ErrorBody },
    }),
    async (req) => {
      const body = parse(Refresh, req.body);
      return tokenPair(ctx, await rotateRefreshToken(ctx.db, body.refresh_token, req.id, forgetSession));
    },
  );

  app.post(
    '/auth/logout',
    {
      preHandler: requireAuth(ctx),
      ...doc({
        summary: "End the caller's session",
        description:
          "Revokes the session of the access token (and of `refresh_token`, if given and the caller's): its refresh tokens answer 401 from now on, its access tokens within seconds.",
        tag: 'auth',
        scope: 'read',
        body: Logout,
        bodyOptional: true,
        responses: { 204: null, 400: ErrorBody, 401: ErrorBody, 413: ErrorBody, 415: ErrorBody },
      }),
    },
    async (req, reply) => {
      const body = parse(Logout, req.body ?? {});
      const { sessionId, userId, tenantId } = req.auth;
      if (!sessionId || !userId) throw new ApiError(400, 'not_a_session', 'API keys do not log out; revoke the key instead');
      await withTx(ctx.db, async (tx) => {
        const scope = scopeOf(req);
        const also = body.refresh_token ? await sessionOfRefreshToken(tx, tenantId, userId, body.refresh_token) : null;
        for (const id of new Set([sessionId, also].filter((x): x is string => !!x))) {
          await endSession(tx, scope, id);
          forgetSession({ tenantId, userId, sessionId: id });
        }
      });
      return reply.code(204).send();
    },
  );

  app.get(
    '/me',
    { preHandler: requireAuth(ctx), ...doc({ summary: 'Who is calling: the user or key, and the tenant', tag: 'auth', etag: true, responses: { 200: Me } }) },
    async (req) => meOf(ctx, req),
  );

  app.patch(
    '/me',
    {
      preHandler: requireAuth(ctx),
      ...doc({ summary: "Change the caller's own preferences", tag: 'auth', scope: 'read', body: MePatch, responses: { 200: Me } }),
    },
    async (req) => {
      const { userId, tenantId } = req.auth;
      if (!userId) throw new ApiError(400, 'not_a_session', 'Preferences belong to a user; an API key has none');
      const b = parse(MePatch, req.body);
      await setAlertEmail(ctx.db, tenantId, userId, b.alert_email);
      return meOf(ctx, req);
    },
  );

  app.post(
    '/me/password',
    {
      preHandler: requireAuth(ctx),
      ...doc({
        summary: 'Change your password',
        description: 'Wants the current password (400 wrong_password). Every other session of yours ends; this one stays.',
        tag: 'auth',
        scope: 'read',
        body: PasswordChange,
        responses: { 204: null },
      }),
    },
    async (req, reply) => {
      const { userId, tenantId, sessionId } = req.auth;
      if (!userId || !sessionId) throw new ApiError(400, 'not_a_session', 'API keys have no password');
      await throttle.attempt(req, reply);
      const b = parse(PasswordChange, req.body);
      const ended = await changePassword(ctx.db, scopeOf(req), userId, sessionId, b.current_password, b.new_password);
      for (const id of ended) forgetSession({ tenantId, userId, sessionId: id });
      return reply.code(204).send();
    },
  );

  await acceptInvitationRoute(app, ctx, throttle);

  app.post(
    '/auth/password-reset',
    doc({
      summary: 'Mail a password reset link',
      description:
        'Answers 202 whether or not the address has an account (nothing tells who does). The link works once, for an hour; only the newest link works.',
      tag: 'auth',
      scope: 'none',
      body: ResetRequest,
      responses: { 202: null },
    }),
    async (req, reply) => {
      await throttle.attempt(req, reply);
      const b = parse(ResetRequest, req.body);
      await throttle.mailTo(b.email, reply);
      await requestPasswordReset(ctx.db, mailContext(ctx), b.email, req.id);
      return reply.code(202).send();
    },
  );

  app.post(
    '/auth/password-reset/confirm',
    doc({
      summary: "Set a new password with a reset link's token",
      description: 'Every session of the user ends (their refresh tokens answer 401). 400 invalid_token for a used, expired or replaced link.',
      tag: 'auth',
      scope: 'none',
      body: ResetConfirm,
      responses: { 204: null },
    }),
    async (req, reply) => {
      await throttle.attempt(req, reply);
      const b = parse(ResetConfirm, req.body);
      const done = await confirmPasswordReset(ctx.db, b.token, b.password, req.id);
      forgetUser(done.tenantId, done.userId);
      return reply.code(204).send();
    },
  );

  app.post(
    '/auth/verify-email',
    doc({ summary: "Verify an address with a verification link's token", tag: 'auth', scope: 'none', body: Verify, responses: { 204: null } }),
    async (req, reply) => {
      await throttle.attempt(req, reply);
      await verifyEmail(ctx.db, parse(Verify, req.body).token, req.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/auth/verify-email/resend',
    {
      preHandler: requireAuth(ctx),
      ...doc({ summary: 'Mail a new verification link to your address', tag: 'auth', scope: 'read', responses: { 202: null } }),
    },
    async (req, reply) => {
      const { userId, tenantId } = req.auth;
      if (!userId) throw new ApiError(400, 'not_a_session', 'API keys have no address');
      const me = await whoAmI(ctx.db, tenantId, userId);
      await throttle.mailTo(me.user!.email, reply);
      await resendVerification(ctx.db, mailContext(ctx), tenantId, userId);
      return reply.code(202).send();
    },
  );
}
