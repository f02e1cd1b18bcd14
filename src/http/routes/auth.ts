// Accounts: register (creates the tenant and its owner) and login -> JWT.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { login, register, whoAmI } from '../../services/accounts.ts';
import { parse } from '../errors.ts';
import { ErrorBody } from '../openapi.ts';
import { doc } from '../openapi.ts';
import { issueToken, requireAuth } from '../plugins/auth.ts';

const Registered = z.strictObject({
  token: z.string(),
  tenant: z.strictObject({ id: z.string(), name: z.string() }),
  user: z.strictObject({ id: z.string(), email: z.string(), role: z.string() }),
  location: z.strictObject({ id: z.string(), name: z.string() }),
});
const Me = z.strictObject({
  user: z.strictObject({ id: z.string(), email: z.string(), role: z.string() }).nullable().meta({ description: 'null for an API key' }),
  tenant: z.strictObject({ id: z.string(), name: z.string(), guardian_interval_s: z.number().int(), drift_threshold: z.number().int() }),
  credential: z.strictObject({ type: z.enum(['user', 'api_key', 'platform_key']), id: z.string(), scopes: z.array(z.enum(['read', 'write', 'admin'])) }),
});

const email = z.string().trim().toLowerCase().email().max(254);
const Register = z.object({
  business_name: z.string().trim().min(1).max(200),
  location_name: z.string().trim().min(1).max(200).optional(),
  email,
  password: z
    .string()
    .min(10, 'Use at least 10 characters')
    .max(200)
    .refine((p) => /[a-zA-Z]/.test(p) && /[^a-zA-Z]/.test(p), 'Mix letters with digits or symbols'),
});
const Login = z.object({ email, password: z.string().min(1).max(200) });

export async function authRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post(
    '/auth/register',
    doc({
      summary: 'Create a tenant and its owner; returns a session token',
      tag: 'auth',
      scope: 'none',
      body: Register,
      responses: { 201: Registered, 400: ErrorBody, 409: ErrorBody, 413: ErrorBody, 415: ErrorBody },
    }),
    async (req, reply) => {
      const body = parse(Register, req.body);
      const created = await register(ctx.db, {
        businessName: body.business_name,
        locationName: body.location_name,
        email: body.email,
        password: body.password,
        guardianIntervalS: ctx.config.guardianIntervalS,
      });
      const token = await issueToken(ctx, { tenantId: created.tenantId, userId: created.userId });
      return reply.code(201).send({
        token,
        tenant: { id: created.tenantId, name: body.business_name },
        user: { id: created.userId, email: body.email, role: 'owner' },
        location: { id: created.locationId, name: body.location_name ?? 'Main' },
      });
    },
  );

  app.post(
    '/auth/login',
    doc({
      summary: 'Log in; returns a session token',
      tag: 'auth',
      scope: 'none',
      body: Login,
      responses: { 200: z.strictObject({ token: z.string() }), 400: ErrorBody, 401: ErrorBody, 413: ErrorBody, 415: ErrorBody },
    }),
    async (req) => {
      const body = parse(Login, req.body);
      const user = await login(ctx.db, body.email, body.password);
      return { token: await issueToken(ctx, user) };
    },
  );

  app.get(
    '/me',
    { preHandler: requireAuth(ctx), ...doc({ summary: 'Who is calling: the user or key, and the tenant', tag: 'auth', etag: true, responses: { 200: Me } }) },
    async (req) => {
      const { user, tenant } = await whoAmI(ctx.db, req.auth.tenantId, req.auth.userId);
      return {
        user,
        tenant,
        credential: { type: req.auth.actorType, id: req.auth.actorId, scopes: [...req.auth.scopes] },
      };
    },
  );
}
