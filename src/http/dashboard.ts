// The dashboard: the built single-page app in web/dist, served at /. Any other GET that is not an
// API, webhook or operations path gets index.html (the app routes on the client).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');
// Not the app's: server paths, and built assets that do not exist (a stale chunk name must 404,
// not load index.html as JavaScript).
const NOT_APP = /^\/(api|webhooks|healthz|metrics|docs|assets)(\/|\?|$)/;

export async function serveDashboard(app: FastifyInstance, dist = WEB_DIST): Promise<void> {
  const index = path.join(dist, 'index.html');
  const built = fs.existsSync(index);
  if (built) {
    await app.register(fastifyStatic, {
      root: dist,
      prefix: '/',
      // Only the files built before start get routes; everything else falls to the SPA route below.
      wildcard: false,
      index: false,
      setHeaders: (res, file) => {
        // Hashed asset names change with their content: cache them for good, never index.html.
        res.header('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  const spa = async (req: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => {
    if (NOT_APP.test(req.url)) return reply.callNotFound();
    if (!built) {
      return reply.code(503).type('text/plain').send('The dashboard is not built yet: run `npm run build:web` (npm start does it for you).');
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  };
  app.get('/', spa);
  app.get('/*', spa);
}
