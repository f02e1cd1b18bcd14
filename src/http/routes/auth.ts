// Accounts: register (creates the tenant and its owner) and login -> JWT.
import { hash, verify } from '@node-rs/argon2';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { withTx } from '../../db/pool.ts';
import { createTenant } from '../../db/tenants.ts';
import type { AppContext } from '../../engine/context.ts';
import { ApiError, parse } from '../errors.ts';
import { issueToken, requireAuth } from '../plugins/auth.ts';

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
  app.post('/auth/register', async (req, reply) => {
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

  app.post('/auth/login', async (req) => {
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

  app.get('/me', { preHandler: requireAuth(ctx) }, async (req) => {
    const { rows } = await ctx.db.query(
      `select u.id, u.email, u.role, t.id as tenant_id, t.name as tenant_name, t.guardian_interval_s, t.drift_threshold
       from users u join tenants t on t.id = u.tenant_id where u.tenant_id = $1 and u.id = $2`,
      [req.auth.tenantId, req.auth.userId],
    );
    if (!rows[0]) throw new ApiError(401, 'unauthorized', 'The account no longer exists');
    const r = rows[0];
    return {
      user: { id: r.id, email: r.email, role: r.role },
      tenant: { id: r.tenant_id, name: r.tenant_name, guardian_interval_s: r.guardian_interval_s, drift_threshold: r.drift_threshold },
    };
  });
}
