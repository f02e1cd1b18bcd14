// Accounts: register (creates the tenant and its owner) and login -> JWT.
import { hash, verify } from '@node-rs/argon2';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { withTx } from '../../db/pool.ts';
import { createTenant } from '../../db/tenants.ts';
import type { AppContext } from '../../engine/context.ts';
import { ApiError, parse } from '../errors.ts';
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

// A hash to verify against when the email is unknown, so both paths take the same time.
let dummyHash: Promise<string> | null = null;

export async function authRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post(
    '/auth/register',
    doc({ summary: 'Create a tenant and its owner; returns a session token', tag: 'auth', scope: 'none', body: Register, responses: { 201: Registered, 400: ErrorBody, 409: ErrorBody, 413: ErrorBody, 415: ErrorBody } }),
    async (req, reply) => {
    const body = parse(Register, req.body);
    const passwordHash = await hash(body.password);
    const created = await withTx(ctx.db, async (tx) => {
      const taken = await tx.query(`select 1 from users where lower(email) = $1`, [body.email]);
      if (taken.rowCount) throw new ApiError(409, 'email_taken', 'An account with this email already exists');
      return createTenant(tx, { name: body.business_name, locationName: body.location_name, owner: { email: body.email, passwordHash }, guardianIntervalS: ctx.config.guardianIntervalS });
    }).catch((err: { code?: string }) => {
      if (err.code === '23505') throw new ApiError(409, 'email_taken', 'An account with this email already exists');
      throw err;
    });
    const token = await issueToken(ctx, { tenantId: created.tenantId, userId: created.userId! });
    return reply.code(201).send({
      token,
      tenant: { id: created.tenantId, name: body.business_name },
      user: { id: created.userId, email: body.email, role: 'owner' },
      location: { id: created.locationId, name: body.location_name ?? 'Main' },
    });
  });

  app.post(
    '/auth/login',
    doc({ summary: 'Log in; returns a session token', tag: 'auth', scope: 'none', body: Login, responses: { 200: z.strictObject({ token: z.string() }), 400: ErrorBody, 401: ErrorBody, 413: ErrorBody, 415: ErrorBody } }),
    async (req) => {
    const body = parse(Login, req.body);
    const { rows } = await ctx.db.query<{ id: string; tenant_id: string; password_hash: string }>(
      `select id, tenant_id, password_hash from users where lower(email) = $1`,
      [body.email],
    );
    const user = rows[0];
    dummyHash ??= hash('not-a-real-password-0');
    const ok = await verify(user?.password_hash ?? (await dummyHash), body.password).catch(() => false);
    if (!user || !ok) throw new ApiError(401, 'invalid_credentials', 'Email or password is wrong');
    return { token: await issueToken(ctx, { tenantId: user.tenant_id, userId: user.id }) };
  });

  app.get('/me', { preHandler: requireAuth(ctx), ...doc({ summary: 'Who is calling: the user or key, and the tenant', tag: 'auth', etag: true, responses: { 200: Me } }) }, async (req) => {
    const { rows } = await ctx.db.query(
      `select u.id, u.email, u.role, t.id as tenant_id, t.name as tenant_name, t.guardian_interval_s, t.drift_threshold
       from tenants t left join users u on u.tenant_id = t.id and u.id = $2 where t.id = $1`,
      [req.auth.tenantId, req.auth.userId],
    );
    const r = rows[0];
    if (!r || (req.auth.userId && !r.id)) throw new ApiError(401, 'unauthorized', 'The account no longer exists');
    return {
      user: req.auth.userId ? { id: r.id, email: r.email, role: r.role } : null,
      tenant: { id: r.tenant_id, name: r.tenant_name, guardian_interval_s: r.guardian_interval_s, drift_threshold: r.drift_threshold },
      credential: { type: req.auth.actorType, id: req.auth.actorId, scopes: [...req.auth.scopes] },
    };
  });
}
