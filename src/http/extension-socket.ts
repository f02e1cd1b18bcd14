// GET /api/v1/extension/socket: where browser extensions pair and take their jobs
// (docs/extension-protocol.md, section 1). The first message must be a hello carrying an extension
// token (a URL would carry it into logs); the socket then belongs to the token's channel, replaces
// an older socket of the same channel in this process, gets the jobs an earlier socket was sent and
// never answered, and is sent due jobs (a few in flight) as they are queued. Results are stored by
// src/services/extension-jobs.ts and acknowledged. Heartbeats keep the token's presence fresh and
// re-check it, so a token revoked in another process closes its socket within one beat.
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { AppContext } from '../engine/context.ts';
import { extensionSignals } from '../engine/extension-relay.ts';
import { claimExtensionJobs, completeExtensionJob, requeueSentExtensionJobs } from '../services/extension-jobs.ts';
import { extensionTokenLive, markExtensionGone, markExtensionSeen, resolveExtensionToken, type PairedExtension } from '../services/extension-tokens.ts';
import { doc } from './openapi.ts';

const HELLO_TIMEOUT_MS = 5_000;
const HEARTBEAT_MS = 20_000;
/** Jobs a socket has in flight at most: enough to overlap, few enough to re-send cheaply after a drop. */
const IN_FLIGHT = 4;
/** How often every socket is offered due jobs queued by other processes (or delayed by a retry). */
const SWEEP_MS = 500;

const ErrorKind = z.enum(['session', 'throttled', 'not_found', 'rejected', 'network']);
const Incoming = z.union([
  z.object({ type: z.literal('hello'), token: z.string().max(200), version: z.string().max(50).optional() }),
  z.object({ type: z.literal('status'), logged_in: z.boolean(), account: z.string().max(200).nullable().optional() }),
  z.object({ type: z.literal('result'), job_id: z.string().max(100), ok: z.literal(true), result: z.unknown().optional() }),
  z.object({
    type: z.literal('result'),
    job_id: z.string().max(100),
    ok: z.literal(false),
    error: z.object({ kind: ErrorKind, message: z.string().max(2000), retry_after_ms: z.number().int().min(0).nullable().optional() }),
  }),
  z.object({ type: z.literal('pong') }),
]);
type Incoming = z.infer<typeof Incoming>;

interface Paired {
  socket: WebSocket;
  pairing: PairedExtension;
  inFlight: Set<string>;
  loggedIn: boolean;
  dispatching: boolean;
}

export class ExtensionHub {
  /** tenantId:channelId -> the one socket serving that channel in this process. */
  private readonly byChannel = new Map<string, Paired>();
  private sweep: NodeJS.Timeout | null = null;
  private readonly onQueued = (tenantId: string, channelId: string) => {
    const p = this.byChannel.get(`${tenantId}:${channelId}`);
    if (p) void this.dispatch(p);
  };
  private readonly onRevoked = (tenantId: string, tokenId: string) => {
    for (const p of this.byChannel.values()) if (p.pairing.tenantId === tenantId && p.pairing.tokenId === tokenId) p.socket.close(4401, 'token revoked');
  };

  private readonly ctx: AppContext;
  constructor(ctx: AppContext) {
    this.ctx = ctx;
  }

  start(): void {
    extensionSignals.on('queued', this.onQueued);
    extensionSignals.on('revoked', this.onRevoked);
    this.sweep = setInterval(() => {
      for (const p of this.byChannel.values()) void this.dispatch(p);
    }, SWEEP_MS);
    this.sweep.unref();
  }

  stop(): void {
    extensionSignals.off('queued', this.onQueued);
    extensionSignals.off('revoked', this.onRevoked);
    if (this.sweep) clearInterval(this.sweep);
    for (const p of this.byChannel.values()) p.socket.close(1001, 'server shutting down');
  }

  accept(socket: WebSocket): void {
    const log = this.ctx.log;
    let paired: Paired | null = null;
    let beat: NodeJS.Timeout | null = null;
    const helloTimer = setTimeout(() => socket.close(4408, 'no hello'), HELLO_TIMEOUT_MS);
    const send = (msg: unknown) => {
      if (socket.readyState === 1) socket.send(JSON.stringify(msg));
    };

    const onHello = async (token: string) => {
      clearTimeout(helloTimer);
      const pairing = await resolveExtensionToken(this.ctx.db, token);
      if (!pairing) return socket.close(4401, 'unknown or revoked token');
      const key = `${pairing.tenantId}:${pairing.channelId}`;
      this.byChannel.get(key)?.socket.close(4409, 'another extension connected for this channel');
      paired = { socket, pairing, inFlight: new Set(), loggedIn: true, dispatching: false };
      this.byChannel.set(key, paired);
      await markExtensionSeen(this.ctx.db, pairing.tenantId, pairing.tokenId);
      // Whatever an earlier socket was sent and never answered is this one's now (jobs are idempotent).
      await requeueSentExtensionJobs(this.ctx.db, pairing.tenantId, pairing.channelId);
      send({ type: 'welcome', channel_id: pairing.channelId, channel_name: pairing.channelName, marketplace_origin: new URL(pairing.baseUrl).origin });
      log.info({ tenant_id: pairing.tenantId, channel_id: pairing.channelId }, 'extension connected');
      beat = setInterval(() => void heartbeat(), HEARTBEAT_MS);
      beat.unref();
      void this.dispatch(paired);
    };

    const heartbeat = async () => {
      if (!paired) return;
      const { tenantId, tokenId } = paired.pairing;
      try {
        if (!(await extensionTokenLive(this.ctx.db, tenantId, tokenId))) return socket.close(4401, 'token revoked');
        await markExtensionSeen(this.ctx.db, tenantId, tokenId);
      } catch (err) {
        log.warn({ err }, 'extension heartbeat could not reach the database');
      }
      send({ type: 'ping' });
    };

    const onMessage = async (msg: Incoming) => {
      if (msg.type === 'hello') {
        if (!paired) await onHello(msg.token);
        return;
      }
      if (!paired) return socket.close(4401, 'hello first');
      const p: Paired = paired;
      const { tenantId, channelId, tokenId } = p.pairing;
      if (msg.type === 'status') {
        const was = p.loggedIn;
        p.loggedIn = msg.logged_in;
        await markExtensionSeen(this.ctx.db, tenantId, tokenId, { logged_in: msg.logged_in, account: msg.account ?? null });
        if (!was && p.loggedIn) void this.dispatch(p);
      } else if (msg.type === 'result') {
        p.inFlight.delete(msg.job_id);
        const outcome = msg.ok ? { ok: true as const, result: msg.result } : { ok: false as const, error: msg.error };
        // A session error means the seller is logged out: hold the queue until they are back.
        if (!msg.ok && msg.error.kind === 'session') p.loggedIn = false;
        await completeExtensionJob(this.ctx.db, tenantId, channelId, msg.job_id, outcome);
        send({ type: 'ack', job_id: msg.job_id });
        extensionSignals.emit('settled', tenantId, msg.job_id);
        void this.dispatch(p);
      } else {
        await markExtensionSeen(this.ctx.db, tenantId, tokenId);
      }
    };

    // One message at a time, in order: a status sent right behind the hello must find the socket
    // paired (the hello's token lookup is still running otherwise), and results are stored in order.
    let handling: Promise<void> = Promise.resolve();
    socket.on('message', (data: Buffer) => {
      let msg: Incoming;
      try {
        msg = Incoming.parse(JSON.parse(data.toString('utf8')));
      } catch {
        send({ type: 'error', message: 'unreadable message: see docs/extension-protocol.md' });
        return;
      }
      handling = handling.then(() => onMessage(msg)).catch((err) => log.error({ err }, 'extension message failed'));
    });
    socket.on('close', () => {
      clearTimeout(helloTimer);
      if (beat) clearInterval(beat);
      const p: Paired | null = paired;
      if (!p) return;
      const key = `${p.pairing.tenantId}:${p.pairing.channelId}`;
      if (this.byChannel.get(key) === p) this.byChannel.delete(key);
      const { tenantId, channelId, tokenId } = p.pairing;
      void (async () => {
        await markExtensionGone(this.ctx.db, tenantId, tokenId);
        // Sent and unanswered: queued again for whichever extension comes next (unless one already took the channel).
        if (!this.byChannel.has(key)) await requeueSentExtensionJobs(this.ctx.db, tenantId, channelId);
      })().catch((err) => log.warn({ err }, 'extension disconnect bookkeeping failed'));
    });
  }

  private async dispatch(p: Paired): Promise<void> {
    if (p.dispatching || !p.loggedIn || p.socket.readyState !== 1) return;
    const room = IN_FLIGHT - p.inFlight.size;
    if (room <= 0) return;
    p.dispatching = true;
    try {
      const jobs = await claimExtensionJobs(this.ctx.db, p.pairing.tenantId, p.pairing.channelId, room);
      for (const j of jobs) {
        p.inFlight.add(j.id);
        p.socket.send(JSON.stringify({ type: 'job', job: { id: j.id, kind: j.kind, payload: j.payload, attempt: j.attempts } }));
      }
    } catch (err) {
      this.ctx.log.warn({ err }, 'could not send extension jobs');
    } finally {
      p.dispatching = false;
    }
  }
}

export async function extensionSocketRoutes(app: FastifyInstance, hub: ExtensionHub): Promise<void> {
  app.get(
    '/extension/socket',
    {
      websocket: true,
      ...doc({
        summary: "The browser extension's WebSocket: hello with an extension token, then jobs and results (docs/extension-protocol.md)",
        tag: 'channels',
        scope: 'none',
        responses: { 101: null },
      }),
    },
    (socket) => hub.accept(socket),
  );
}
