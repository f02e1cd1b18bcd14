// Authentication: `Authorization: Bearer <credential>`; the tenant comes from the credential, never
// the body. Three credentials:
// - a session access token (dashboard users): a 15-minute JWT naming its session (`sid`), checked
//   against the database (user, tenant, session not revoked) on every request through a cache of a
//   few seconds; every scope;
// - a tenant API key `sck_...`: its scopes, its tenant;
// - a platform key `scp_...`: acts on several tenants, naming one per call in X-Tenant-ID;
// - an impersonation token: a JWT naming an `impersonations` row (`imp`) instead of a session,
//   minted for an operator looking at a tenant (src/services/impersonation.ts); checked against
//   the row like a session, read-only unless the row says otherwise, and audited per request.
// Keys are looked up by the SHA-256 of the secret (see src/db/api-keys.ts for why SHA-256).
// Every /api/v1 route except register/login runs behind `requireAuth`, which also checks the
// scope the route's OpenAPI description asks for and applies the key's rate limit.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SignJWT, jwtVerify } from 'jose';
import { findPlatformKey, findTenantKey, PLATFORM_KEY_PREFIX, TENANT_KEY_PREFIX, touchApiKey } from '../../db/api-keys.ts';
import type { AppContext } from '../../engine/context.ts';
import { ACCESS_TTL_S, livePrincipal, type IssuedSession } from '../../services/sessions.ts';
import { IMPERSONATION_TTL_S, liveImpersonation, type Impersonation } from '../../services/impersonation.ts';
import { ApiError } from '../errors.ts';
import { permissionsOf, type Permission } from '../../domain/permissions.ts';
import { requiredScope } from '../openapi.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface SessionInfo {
  tenantId: string;
  userId: string;
  sessionId: string;
}

export interface AuthInfo {
  tenantId: string;
  /** The session's user; null for API keys. */
  userId: string | null;
  /** Who acts: usr_... (session or impersonating operator), key_... (API key) or pkey_... (platform key). Audit and movements name it. */
  actorId: string;
  actorType: 'user' | 'api_key' | 'platform_key' | 'operator';
  scopes: ReadonlySet<Permission>;
  /** The tenant's plan (rate limits), for keys. */
  plan: string | null;
  /** The session (ses_...) an access token belongs to; null for keys. */
  sessionId: string | null;
  /** The session user's role (src/domain/permissions.ts); null for keys. */
  role: string | null;
  /** Set when an operator is impersonating the tenant with this credential. */
  impersonation: ImpersonationAuth | null;
}

export interface ImpersonationAuth {
  id: string;
  operatorUserId: string;
  operatorTenantId: string;
  readOnly: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthInfo;
  }
}

const ISSUER = 'stockclerk';
const TENANT_ID = /^ten_[0-9a-f]{32}$/;

/** Our JWTs: HS256, our issuer, the user as subject, the tenant in `tid`, and what they stand for (`sid` or `imp`). */
const signJwt = (ctx: AppContext, claims: { tid: string; sid?: string; imp?: string }, subject: string, expires: string | number) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(subject).setIssuer(ISSUER).setIssuedAt().setExpirationTime(expires).sign(ctx.jwtKey);

export async function issueAccessToken(ctx: AppContext, auth: SessionInfo): Promise<string> {
  return signJwt(ctx, { tid: auth.tenantId, sid: auth.sessionId }, auth.userId, `${ACCESS_TTL_S}s`);
}

/** What login, sign-up and refresh answer (`token` is the access token's old name, kept for existing clients). */
export async function tokenPair(ctx: AppContext, s: IssuedSession) {
  const access = await issueAccessToken(ctx, s);
  return { access_token: access, refresh_token: s.refreshToken, expires_in: ACCESS_TTL_S, token_type: 'Bearer' as const, token: access };
}

/** The token of an impersonation: it names the row, which it cannot outlive. */
export async function issueImpersonationToken(ctx: AppContext, imp: Impersonation): Promise<string> {
  return signJwt(ctx, { tid: imp.tenant_id, imp: imp.id }, imp.operator_user_id, Math.floor(imp.expires_at.getTime() / 1000));
}

/**
 * The claims of a well-formed, unexpired access token of ours, or null. `exp`, `iat`, `sub`,
 * `tid` and `sid` are required; an `iat` in the future (beyond a few seconds of clock skew) or
 * older than the access lifetime is refused, whatever `exp` says.
 */
export async function verifyToken(ctx: AppContext, token: string): Promise<SessionInfo | null> {
  const t = await verifyJwt(ctx, token);
  return t && 'sessionId' in t ? t : null;
}

type JwtClaims = SessionInfo | { tenantId: string; userId: string; impersonationId: string };

/**
 * Tokens already verified, per signing key: a client sends the same access token on every request,
 * and an HMAC check through WebCrypto cost ~7% of the API process's CPU per write (bench api). A hit
 * still honours the token's lifetime; a key's cache is that key's alone (tests run several).
 */
const verified = new WeakMap<object, Map<string, { claims: JwtClaims; until: number }>>();
const VERIFIED_MAX = 20_000;

/** A session's claims, or an impersonation's (`imp` instead of `sid`), or null. */
async function verifyJwt(ctx: AppContext, token: string): Promise<JwtClaims | null> {
  let cache = verified.get(ctx.jwtKey);
  if (!cache) verified.set(ctx.jwtKey, (cache = new Map()));
  const hit = cache.get(token);
  if (hit) {
    if (Date.now() < hit.until) return hit.claims;
    cache.delete(token);
  }
  const claims = await verifyJwtSignature(ctx, token);
  if (claims) {
    if (cache.size >= VERIFIED_MAX) cache.delete(cache.keys().next().value!);
    cache.set(token, claims);
  }
  return claims?.claims ?? null;
}

async function verifyJwtSignature(ctx: AppContext, token: string): Promise<{ claims: JwtClaims; until: number } | null> {
  try {
    const maxTokenAge = Math.max(ACCESS_TTL_S, IMPERSONATION_TTL_S);
    const { payload } = await jwtVerify(token, ctx.jwtKey, {
      issuer: ISSUER,
      algorithms: ['HS256'],
      requiredClaims: ['exp', 'iat', 'sub', 'tid'],
      maxTokenAge,
      clockTolerance: 5,
    });
    if (typeof payload.tid !== 'string' || typeof payload.sub !== 'string') return null;
    // Honoured from the cache until whichever comes first of exp and iat + maxTokenAge (the
    // required claims, both numbers once verified), within the same 5 s tolerance.
    const until = (Math.min(payload.exp!, payload.iat! + maxTokenAge) + 5) * 1000;
    if (typeof payload.sid === 'string') return { claims: { tenantId: payload.tid, userId: payload.sub, sessionId: payload.sid }, until };
    if (typeof payload.imp === 'string') return { claims: { tenantId: payload.tid, userId: payload.sub, impersonationId: payload.imp }, until };
    return null;
  } catch {
    return null;
  }
}

/** Live impersonations, cached like sessions: ending one elsewhere takes effect within seconds. */
const impersonations = new Map<string, { imp: Impersonation | null; at: number }>();
async function impersonationOf(ctx: AppContext, tenantId: string, id: string): Promise<Impersonation | null> {
  const key = `${tenantId}|${id}`;
  const hit = impersonations.get(key);
  if (hit && Date.now() - hit.at < PRINCIPAL_CACHE_MS) return hit.imp && hit.imp.expires_at.getTime() > Date.now() ? hit.imp : null;
  const imp = await liveImpersonation(ctx.db, tenantId, id);
  impersonations.set(key, { imp, at: Date.now() });
  if (impersonations.size > 10_000) impersonations.delete(impersonations.keys().next().value!);
  return imp;
}

/** This process stops honouring an impersonation's token at once (it was just ended here). */
export function forgetImpersonation(tenantId: string, id: string): void {
  impersonations.set(`${tenantId}|${id}`, { imp: null, at: Date.now() });
}

/**
 * Is the session behind an access token still live (user and tenant exist, session not revoked)?
 * Asked on every request, answered from a cache of PRINCIPAL_CACHE_MS: a logout or removal in
 * another API process takes effect within that, in this one at once (forgetSession).
 */
const PRINCIPAL_CACHE_MS = 5_000;
interface Principal {
  role: string;
  superAdmin: boolean;
}
const principals = new Map<string, { principal: Principal | null; at: number }>();
const principalKey = (s: SessionInfo) => `${s.tenantId}|${s.userId}|${s.sessionId}`;

/** The session's user's role (and whether they are a super admin) while the session is live; null once it is not. */
async function sessionPrincipal(ctx: AppContext, s: SessionInfo): Promise<Principal | null> {
  const key = principalKey(s);
  const now = Date.now();
  const hit = principals.get(key);
  if (hit && now - hit.at < PRINCIPAL_CACHE_MS) return hit.principal;
  const row = await livePrincipal(ctx.db, s.tenantId, s.userId, s.sessionId);
  const principal = row ? { role: row.role, superAdmin: row.super_admin } : null;
  principals.delete(key); // re-inserted last: the map's order is oldest first
  principals.set(key, { principal, at: now });
  if (principals.size > 50_000) principals.delete(principals.keys().next().value!);
  return principal;
}

/** This process stops honouring a session's access tokens at once (it was just revoked here). */
export function forgetSession(s: SessionInfo): void {
  principals.set(principalKey(s), { principal: null, at: Date.now() });
}

/** This process reads the user's role again on their next request (it was just changed here). */
export function forgetUser(tenantId: string, userId: string): void {
  const prefix = `${tenantId}|${userId}|`;
  for (const key of principals.keys()) if (key.startsWith(prefix)) principals.delete(key);
}

/** Does a credential's grant cover `need`? Sessions hold their role's permissions; keys their scopes (admin implies write implies read). */
export function hasScope(scopes: ReadonlySet<Permission>, need: Permission): boolean {
  if (need === 'owner' || need === 'operator') return scopes.has(need);
  if (scopes.has('admin')) return true;
  if (need === 'read') return scopes.has('read') || scopes.has('write');
  return scopes.has(need);
}

const unauthorized = () => new ApiError(401, 'unauthorized', 'A valid Bearer token or API key is required');

// last_used_at is written at most once a minute per key, off the request's path.
const lastTouched = new Map<string, number>();
function touch(ctx: AppContext, id: string, tenantId: string): void {
  const now = Date.now();
  if ((lastTouched.get(id) ?? 0) > now - 60_000) return;
  lastTouched.set(id, now);
  if (lastTouched.size > 10_000) lastTouched.delete(lastTouched.keys().next().value!);
  void touchApiKey(ctx.db, tenantId, id).catch(() => {});
}

async function authenticate(ctx: AppContext, req: FastifyRequest): Promise<AuthInfo> {
  const h = req.headers.authorization;
  const token = h?.startsWith('Bearer ') ? h.slice(7).trim() : null;
  return resolveCredential(ctx, token, req.headers['x-tenant-id']);
}

/** A key's credential: its tenant, its scopes, its plan; no user, session or role. */
function keyAuth(k: { tenant_id: string; id: string; scopes: string[]; plan: string | null }, actorType: 'api_key' | 'platform_key'): AuthInfo {
  return {
    tenantId: k.tenant_id,
    userId: null,
    actorId: k.id,
    actorType,
    scopes: new Set(k.scopes as Permission[]),
    plan: k.plan,
    sessionId: null,
    role: null,
    impersonation: null,
  };
}

/** Who a bearer credential is (session JWT, tenant key or platform key + X-Tenant-ID); throws 400/401/403. */
export async function resolveCredential(ctx: AppContext, token: string | null | undefined, named: string | string[] | undefined): Promise<AuthInfo> {
  if (!token) throw unauthorized();
  if (named !== undefined && (typeof named !== 'string' || !TENANT_ID.test(named))) {
    throw new ApiError(400, 'validation_failed', 'X-Tenant-ID is not a tenant id', [{ path: 'X-Tenant-ID', message: 'must be a ten_ id' }]);
  }
  if (token.startsWith(TENANT_KEY_PREFIX)) {
    const k = await findTenantKey(ctx.db, token);
    if (!k) throw unauthorized();
    if (named && named !== k.tenant_id) throw new ApiError(403, 'forbidden', 'This key cannot act on that tenant');
    touch(ctx, k.id, k.tenant_id);
    return keyAuth({ ...k, tenant_id: k.tenant_id }, 'api_key');
  }
  if (token.startsWith(PLATFORM_KEY_PREFIX)) {
    const k = await findPlatformKey(ctx.db, token, named ?? null);
    if (!k) throw unauthorized();
    if (!named) throw new ApiError(400, 'tenant_required', 'A platform key names the tenant it acts on in X-Tenant-ID');
    if (!k.tenant_id) throw new ApiError(403, 'forbidden', 'This key cannot act on that tenant');
    return keyAuth({ ...k, tenant_id: k.tenant_id }, 'platform_key');
  }
  const session = await verifyJwt(ctx, token);
  if (!session) throw unauthorized();
  if (named && named !== session.tenantId) throw new ApiError(403, 'forbidden', 'This session cannot act on that tenant');
  if ('impersonationId' in session) {
    const imp = await impersonationOf(ctx, session.tenantId, session.impersonationId);
    if (!imp || imp.operator_user_id !== session.userId) throw new ApiError(401, 'unauthorized', 'This impersonation has ended');
    return {
      tenantId: imp.tenant_id,
      userId: null,
      actorId: imp.operator_user_id,
      actorType: 'operator',
      // Read-only: a viewer's permissions. Write: an editor's (stock and items), never more.
      role: imp.read_only ? 'viewer' : 'editor',
      scopes: permissionsOf(imp.read_only ? 'viewer' : 'editor'),
      plan: null,
      sessionId: null,
      impersonation: { id: imp.id, operatorUserId: imp.operator_user_id, operatorTenantId: imp.operator_tenant_id, readOnly: imp.read_only },
    };
  }
  // A signed token is not enough: its user, tenant and session must still exist (a removed user,
  // a deleted tenant or a logout ends it), else a query would meet a missing row (a 500). The
  // role is read with them, so a changed role takes effect within the cache's seconds.
  const principal = await sessionPrincipal(ctx, session);
  if (principal === null) throw unauthorized();
  const { role } = principal;
  return {
    tenantId: session.tenantId,
    userId: session.userId,
    actorId: session.userId,
    actorType: 'user',
    role,
    scopes: permissionsOf(role, principal.superAdmin),
    plan: null,
    sessionId: session.sessionId,
    impersonation: null,
  };
}

/** The route that ends an impersonation: the one change a read-only impersonation may make. */
export const END_IMPERSONATION_ROUTE = '/api/v1/impersonations/:id';

export function requireAuth(ctx: AppContext, limiter?: RateLimiter) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const auth = await authenticate(ctx, req);
    req.auth = auth;
    req.log = req.log.child({ tenant_id: auth.tenantId });
    // In memory, flushed every few seconds (src/services/usage.ts); a call refused below still counts.
    ctx.usage.count(auth.tenantId, 'api_calls');
    // Keys spend their rate limit before anything else they could be refused for.
    if (limiter && (auth.actorType === 'api_key' || auth.actorType === 'platform_key'))
      await limiter.take(auth.actorId, auth.actorType === 'platform_key' ? 'platform' : (auth.plan ?? 'trial'), reply);
    // Read-only means no change of any kind, whatever a route's permission says (a POST that only
    // reads is still refused); ending the impersonation itself is the one exception.
    const endingItself = auth.impersonation !== null && req.method === 'DELETE' && req.routeOptions.url === END_IMPERSONATION_ROUTE;
    if (auth.impersonation?.readOnly && req.method !== 'GET' && req.method !== 'HEAD' && !endingItself) {
      throw new ApiError(403, 'impersonation_read_only', 'This impersonation is read-only: nothing can be changed with it', {
        impersonation_id: auth.impersonation.id,
      });
    }
    // An impersonation may end itself (the route checks it is its own), whatever the route's permission.
    const need = endingItself ? 'none' : requiredScope(req.method === 'HEAD' ? 'GET' : req.method, req.routeOptions.config?.openapi);
    if (need !== 'none' && !hasScope(auth.scopes, need)) {
      if (auth.role !== null) {
        throw new ApiError(403, 'forbidden', `Your role (${auth.role}) cannot do this: it needs the ${need} permission`, { required: need, role: auth.role });
      }
      throw new ApiError(403, 'insufficient_scope', `This call needs the ${need} scope`, { required: need, granted: [...auth.scopes] });
    }
  };
}
