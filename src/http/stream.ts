// Live events: GET /api/v1/stream (WebSocket). Every API process LISTENs on the 'stockclerk'
// Postgres channel (writers NOTIFY inside their transactions, so only committed changes are
// announced) and forwards each event to the sockets of that event's tenant only.
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import type { WebSocket } from 'ws';
import type { AppContext } from '../engine/context.ts';
import { z } from 'zod';
import { doc } from './openapi.ts';
import { ApiError } from './errors.ts';
import { hasScope, resolveCredential, type AuthInfo } from './plugins/auth.ts';

export class StreamHub {
  private readonly sockets = new Map<string, Set<WebSocket>>();
  private client: pg.Client | null = null;
  private readonly url: string;
  constructor(url: string) {
    this.url = url;
  }

  async start(): Promise<void> {
    this.client = new pg.Client({ connectionString: this.url });
    this.client.on('error', () => {});
    await this.client.connect();
    this.client.on('notification', (n) => {
      if (!n.payload) return;
      let tenant: string;
      try {
        tenant = (JSON.parse(n.payload) as { tenant_id: string }).tenant_id;
      } catch {
        return;
      }
      const set = this.sockets.get(tenant);
      if (!set) return;
      for (const ws of set) if (ws.readyState === 1) ws.send(n.payload);
    });
    await this.client.query('listen stockclerk');
  }

  add(tenantId: string, ws: WebSocket): void {
    let set = this.sockets.get(tenantId);
    if (!set) this.sockets.set(tenantId, (set = new Set()));
    set.add(ws);
    ws.on('close', () => {
      set.delete(ws);
      if (set.size === 0) this.sockets.delete(tenantId);
    });
  }

  async stop(): Promise<void> {
    for (const set of this.sockets.values()) for (const ws of set) ws.close(1001, 'server shutting down');
    await this.client?.end().catch(() => {});
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
    hub.add(auth.tenantId, socket);
    socket.send(JSON.stringify({ type: 'hello', tenant_id: auth.tenantId }));
    },
  );
}
