// Live events: GET /api/v1/stream (WebSocket). Every API process LISTENs on the 'stockclerk'
// Postgres channel (writers NOTIFY inside their transactions, so only committed changes are
// announced) and forwards each event to the sockets of that event's tenant only. Writers notify
// only for tenants some process watches (src/db/live.ts): the hub registers its tenants in
// stream_watchers before a socket is told hello, and keeps the registration fresh.
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { WebSocket } from 'ws';
import { LiveFeed } from '../db/live.ts';
import type { AppContext } from '../engine/context.ts';
import { z } from 'zod';
import { doc } from './openapi.ts';
import { ApiError } from './errors.ts';
import { hasScope, resolveCredential, type AuthInfo } from './plugins/auth.ts';

const HEARTBEAT_MS = 20_000;

export class StreamHub {
  private readonly sockets = new Map<string, Set<WebSocket>>();
  private readonly feed: LiveFeed;
  private heartbeat: NodeJS.Timeout | null = null;
  constructor(url: string) {
    this.feed = new LiveFeed(url, `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`);
  }

  async start(): Promise<void> {
    await this.feed.listen(
      (payload) => {
        let tenant: string;
        try {
          tenant = (JSON.parse(payload) as { tenant_id: string }).tenant_id;
        } catch {
          return;
        }
        const set = this.sockets.get(tenant);
        if (!set) return;
        for (const ws of set) if (ws.readyState === 1) ws.send(payload);
      },
      // The feed's connection was lost and is back (the database restarted): what was announced
      // meanwhile is gone. Closing the sockets (1012: service restart) sends every dashboard
      // back through its reconnect, whose hello makes it reload what it shows.
      () => {
        for (const set of this.sockets.values()) for (const ws of set) ws.close(1012, 'live feed restarted');
      },
    );
    this.heartbeat = setInterval(() => void this.feed.watch([...this.sockets.keys()]).catch(() => {}), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Resolves once writers know somebody watches the tenant: only then is the socket told hello. */
  async add(tenantId: string, ws: WebSocket): Promise<void> {
    let set = this.sockets.get(tenantId);
    if (!set) this.sockets.set(tenantId, (set = new Set()));
    set.add(ws);
    ws.on('close', () => {
      set.delete(ws);
      if (set.size === 0 && this.sockets.get(tenantId) === set) {
        this.sockets.delete(tenantId);
        void this.feed.unwatch(tenantId).catch(() => {});
      }
    });
    await this.feed.watch([tenantId]);
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const set of this.sockets.values()) for (const ws of set) ws.close(1001, 'server shutting down');
    await this.feed.close();
  }
}

export async function streamRoutes(app: FastifyInstance, ctx: AppContext, hub: StreamHub): Promise<void> {
  // Browsers cannot set headers on a WebSocket: the token comes as ?token= or the Authorization header.
  app.get(
    '/stream',
    {
      websocket: true,
      ...doc({
        summary: 'Live events over a WebSocket (session token or API key in ?token= or Authorization)',
        tag: 'stream',
        scope: 'none',
        query: z.object({ token: z.string().optional(), tenant_id: z.string().optional().meta({ description: 'Platform keys: the tenant' }) }),
        responses: { 101: null },
      }),
    },
    async (socket, req) => {
      const q = req.query as { token?: string; tenant_id?: string };
      const h = req.headers.authorization;
      const token = q.token ?? (h?.startsWith('Bearer ') ? h.slice(7) : undefined);
      // Sessions and API keys alike (a platform key names its tenant in X-Tenant-ID or ?tenant_id=).
      let auth: AuthInfo;
      try {
        auth = await resolveCredential(ctx, token, q.tenant_id ?? req.headers['x-tenant-id']);
      } catch (err) {
        socket.close(err instanceof ApiError && err.status === 403 ? 4403 : 4401, err instanceof ApiError ? err.code : 'unauthorized');
        return;
      }
      if (!hasScope(auth.scopes, 'read')) {
        socket.close(4403, 'insufficient_scope');
        return;
      }
      await hub.add(auth.tenantId, socket);
      socket.send(JSON.stringify({ type: 'hello', tenant_id: auth.tenantId }));
      // The credential is checked again while the socket is open: a revoked key, an ended session
      // or an expired access token closes it (4401), as the next HTTP call would be refused.
      // (The dashboard reconnects with a fresh access token.)
      const recheck = setInterval(() => {
        resolveCredential(ctx, token, q.tenant_id ?? req.headers['x-tenant-id']).then(
          (now) => {
            if (now.tenantId !== auth.tenantId || !hasScope(now.scopes, 'read')) socket.close(4403, 'forbidden');
          },
          (err: unknown) => {
            if (err instanceof ApiError) socket.close(err.status === 403 ? 4403 : 4401, err.code);
            // Anything else (the database unreachable for a moment) is not the credential's fault: ask again next time.
          },
        );
      }, ctx.tuning.streamRecheckMs);
      recheck.unref();
      socket.on('close', () => clearInterval(recheck));
    },
  );
}
