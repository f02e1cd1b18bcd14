// Security headers on every response (helmet's defaults: nosniff, frame-ancestors, referrer policy,
// HSTS over https ...) with a Content-Security-Policy the dashboard and /docs run under: scripts and
// connections only from this origin (the live stream's WebSocket is same-origin), inline styles
// allowed (React and Swagger UI set them), no plugins. No upgrade-insecure-requests: a development
// server on plain http must keep loading its own files.
//
// helmet itself, its middleware built once. @fastify/helmet (13.x) calls `helmet(options)` inside
// its onRequest hook, which builds every header middleware again and re-parses the CSP on each
// request: about 5% of the API process's CPU on a one-statement stock write (perf, bench medusa).
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

export function installSecurityHeaders(app: FastifyInstance): void {
  const apply = helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: { 'connect-src': ["'self'"], 'img-src': ["'self'", 'data:'], 'upgrade-insecure-requests': null },
    },
  });
  app.addHook('onRequest', (req, reply, done) => apply(req.raw, reply.raw, (err?: unknown) => done(err as Error | undefined)));
}
