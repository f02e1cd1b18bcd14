// The HTTP server: Fastify with one plugin per concern (errors, auth, webhooks, stream) and thin
// route files under routes/. Every response carries X-Request-Id; every log line request_id.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import { z } from 'zod';
import type { DatabaseStatus } from '../db/watch.ts';
import type { AppContext } from '../engine/context.ts';
import { registry } from '../metrics.ts';
import { serveDashboard } from './dashboard.ts';
import { installErrorHandling } from './errors.ts';
import { installSecurityHeaders } from './security-headers.ts';
import { requestLogger } from './request-log.ts';
import { ApiDocs, doc, DOCUMENT_NAMES, DOCUMENTS } from './openapi.ts';
import { requireAuth, type AuthInfo } from './plugins/auth.ts';
import { auditImpersonatedRequest } from '../services/impersonation.ts';
import { installBodyDepthLimit } from './plugins/body-depth.ts';
import { installEtags } from './plugins/etag.ts';
import { installIdempotency } from './plugins/idempotency.ts';
import { RateLimiter } from './plugins/rate-limit.ts';
import { apiRoutes } from './routes/index.ts';
import { authRoutes } from './routes/auth.ts';
import { publicEnquiryRoutes } from './routes/enquiries.ts';
import { stripeWebhookRoute } from './routes/stripe-webhooks.ts';
import { installRoute, oauthCallbackRoute } from './routes/oauth.ts';
import { mediaRoute } from './routes/products.ts';
import { inboundWebhookRoutes } from './routes/inbound-webhooks.ts';
import { streamRoutes, type StreamHub } from './stream.ts';
import { REPLICA_HEADERS, trackOwnWrites } from './replica-read.ts';
import { ExtensionHub, extensionSocketRoutes } from './extension-socket.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

export interface AppOptions {
  /** Reported by /healthz: true once migrations ran and the workers are up. */
  ready: () => boolean;
  hub: StreamHub;
  /** Reported by /healthz: whether the database answers (src/db/watch.ts). Only an app built for
   *  its OpenAPI document goes without. */
  database?: () => Promise<DatabaseStatus>;
  /** Rate limits of API keys (tests pass small plans). */
  limiter?: RateLimiter;
}

const isLoopback = (addr: string | undefined) => !!addr && (addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.'));

/** Compares in constant time (a token compared byte by byte leaks how much of it was right). */
function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A request's path for the log: no query, and no channel webhook URL secret (/webhooks/{type}/{id}/{secret}). */
export function loggedPath(url: string): string {
  return url.split('?')[0]!.replace(/^(\/webhooks\/[^/]+\/[^/]+\/)[^/]+/, '$1[redacted]');
}

export async function buildApp(ctx: AppContext, opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    childLoggerFactory: requestLogger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: 1024 * 1024,
    // Believe X-Forwarded-* only from the proxies TRUST_PROXY names (off by default): the client's
    // address is what the login throttle counts, and nobody may choose their own.
    trustProxy: ctx.config.trustProxy,
    // The router's own refusals (overlong or malformed URLs) in our error shape too.
    frameworkErrors: (err, req, res) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const reply = res as unknown as FastifyReply;
      void reply
        .code(tooLong ? 404 : 400)
        .header('x-request-id', req.id)
        .send({ error: { code: tooLong ? 'not_found' : 'invalid_request', message: err.message, details: null, request_id: req.id } });
    },
  });
  installErrorHandling(app);
  installSecurityHeaders(app);
  // CORS stays closed (no browser on another origin may call the API) unless CORS_ORIGINS lists
  // the origins that may.
  if (ctx.config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: ctx.config.corsOrigins,
      credentials: false,
      exposedHeaders: ['etag', 'x-request-id', 'retry-after', 'ratelimit', 'ratelimit-policy', ...REPLICA_HEADERS],
    });
  }
  // Before any route: every /api/v1 route must describe itself, or the app does not start.
  const docs = new ApiDocs();
  docs.install(app);
  app.decorate('apiDocs', docs);
  installEtags(app);
  installBodyDepthLimit(app);
  const limiter = opts.limiter ?? new RateLimiter(ctx.db);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  trackOwnWrites(app, ctx);
  app.addHook('onResponse', async (req, reply) => {
    // Every request made while impersonating is recorded in both tenants' audit logs, refused ones too.
    const imp = (req.auth as AuthInfo | undefined)?.impersonation;
    if (imp) {
      await auditImpersonatedRequest(
        ctx.db,
        { id: imp.id, tenant_id: req.auth.tenantId, operator_user_id: imp.operatorUserId, operator_tenant_id: imp.operatorTenantId },
        { id: req.id, method: req.method, path: req.url.split('?')[0]!, status: reply.statusCode },
      ).catch((err) => req.log.error({ err }, 'could not audit an impersonated request'));
    }
    if (reply.statusCode >= 400 || req.url.startsWith('/api/')) {
      req.log.info({ method: req.method, url: loggedPath(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    }
  });
  // 1 MiB: an extension's answer to a read of a seller's listings is the largest message received.
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });

  app.get('/healthz', async (_req, reply) => {
    if (!opts.ready()) return reply.code(503).send({ status: 'starting' });
    // Up but without its database, this process can serve nothing: a load balancer must look elsewhere.
    const database = (await opts.database?.()) ?? { ok: true };
    if (!database.ok) return reply.code(503).send({ status: 'unavailable', database: 'unreachable', since: database.since?.toISOString() });
    // A replica in trouble is reported, never a 503: the primary serves its reads meanwhile.
    return ctx.replica ? { status: 'ok', replica: ctx.replica.status() } : { status: 'ok' };
  });
  // Metrics say how busy every tenant is: with METRICS_TOKEN set, only a scraper holding it reads
  // them; without it, only a caller on this machine (a scraper behind a proxy sets the token).
  app.get('/metrics', async (req, reply) => {
    const token = ctx.config.metricsToken;
    const allowed = token ? safeEqual(req.headers.authorization ?? '', `Bearer ${token}`) : isLoopback(req.socket.remoteAddress);
    if (!allowed) {
      return reply.code(token ? 401 : 403).send({
        error: {
          code: token ? 'unauthorized' : 'forbidden',
          message: token ? 'Send Authorization: Bearer <METRICS_TOKEN>' : 'Metrics are served to this machine only; set METRICS_TOKEN to scrape from elsewhere',
          details: null,
          request_id: req.id,
        },
      });
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  // The interactive reference (Swagger UI) at /docs, over the documents the API serves (one per
  // audience, see DOCUMENTS in openapi.ts): a selector in its top bar switches between them, the
  // integrators' first. /docs/json is the integrators' document.
  const live: Record<string, unknown> = {};
  await app.register(swagger, { mode: 'static', specification: { document: live as never } });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { urls: DOCUMENT_NAMES.map((n) => ({ url: DOCUMENTS[n].path, name: DOCUMENTS[n].label })), 'urls.primaryName': DOCUMENTS.api.label } as never,
  });
  app.addHook('onReady', async () => {
    Object.assign(live, docs.document('api'));
  });
  for (const name of DOCUMENT_NAMES) {
    const { path, title } = DOCUMENTS[name];
    app.get(
      path,
      doc({ summary: `The OpenAPI 3.1 document: ${title}`, tag: 'meta', scope: 'none', responses: { 200: z.record(z.string(), z.unknown()) } }),
      async () => docs.document(name),
    );
  }

  await app.register(async (scope) => {
    await inboundWebhookRoutes(scope, ctx);
    await stripeWebhookRoute(scope, ctx);
  });
  await mediaRoute(app, ctx);
  await oauthCallbackRoute(app, ctx);
  await installRoute(app, ctx);
  await app.register(async (scope) => authRoutes(scope, ctx), { prefix: '/api/v1' });
  // The landing page's reads and its enquiry form: for visitors with no account.
  await app.register(async (scope) => publicEnquiryRoutes(scope, ctx), { prefix: '/api/v1' });
  await app.register(async (scope) => streamRoutes(scope, ctx, opts.hub), { prefix: '/api/v1' });
  const extensions = new ExtensionHub(ctx);
  extensions.start();
  app.addHook('onClose', async () => extensions.stop());
  await app.register(async (scope) => extensionSocketRoutes(scope, extensions), { prefix: '/api/v1' });
  await app.register(
    async (scope) => {
      // Before the body is read: no token means 401, whatever the body.
      scope.addHook('onRequest', requireAuth(ctx, limiter));
      installIdempotency(scope, ctx);
      await apiRoutes(scope, ctx);
    },
    { prefix: '/api/v1' },
  );
  await serveDashboard(app);
  return app;
}
