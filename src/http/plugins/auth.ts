// Authentication: `Authorization: Bearer <jwt>`; the tenant comes from the credential, never the
// body. Every /api/v1 route except register/login runs behind `requireAuth`.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SignJWT, jwtVerify } from 'jose';
import type { AppContext } from '../../engine/context.ts';
import { ApiError } from '../errors.ts';

export interface AuthInfo {
  tenantId: string;
  userId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthInfo;
  }
}

const ISSUER = 'stockclerk';

export async function issueToken(ctx: AppContext, auth: AuthInfo): Promise<string> {
  return new SignJWT({ tid: auth.tenantId })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(auth.userId)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime('12h')
    .sign(ctx.jwtKey);
}

export async function verifyToken(ctx: AppContext, token: string): Promise<AuthInfo | null> {
  try {
    const { payload } = await jwtVerify(token, ctx.jwtKey, { issuer: ISSUER, algorithms: ['HS256'] });
    if (typeof payload.tid !== 'string' || typeof payload.sub !== 'string') return null;
    return { tenantId: payload.tid, userId: payload.sub };
  } catch {
    return null;
  }
}

export function requireAuth(ctx: AppContext) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const h = req.headers.authorization;
    const token = h?.startsWith('Bearer ') ? h.slice(7).trim() : null;
    const auth = token ? await verifyToken(ctx, token) : null;
    if (!auth) throw new ApiError(401, 'unauthorized', 'A valid Bearer token is required');
    req.auth = auth;
    req.log = req.log.child({ tenant_id: auth.tenantId });
  };
}
