// The messages of docs/extension-protocol.md, section 1 (StockClerk <-> extension), as types.
// The server's zod schemas (src/http/extension-socket.ts) are the other half of the same text.

export type JobKind = 'publish' | 'update' | 'delete' | 'mark_sold' | 'read_listings' | 'read_sales';
export type ErrorKind = 'session' | 'throttled' | 'not_found' | 'rejected' | 'network';

export interface Job {
  id: string;
  kind: JobKind | string;
  payload: Record<string, unknown>;
  attempt: number;
}

export interface JobError {
  kind: ErrorKind;
  message: string;
  retry_after_ms?: number;
}

export type JobOutcome = { ok: true; result: unknown } | { ok: false; error: JobError };

export type ServerMessage =
  | { type: 'welcome'; channel_id: string; channel_name: string; marketplace_origin: string }
  | { type: 'job'; job: Job }
  | { type: 'ack'; job_id: string }
  | { type: 'ping' }
  | { type: 'error'; message: string };

export type ExtensionMessage =
  | { type: 'hello'; token: string; version: string }
  | { type: 'status'; logged_in: boolean; account: string | null }
  | ({ type: 'result'; job_id: string } & JobOutcome)
  | { type: 'pong' };

/** Close codes StockClerk uses: the token is no good (unknown, revoked, expired), no hello in time, another extension took the channel. */
export const CLOSE_REFUSED = 4401;
export const CLOSE_NO_HELLO = 4408;
export const CLOSE_REPLACED = 4409;

/** A thrown job failure: the runner turns it into a `result` with ok:false. */
export class JobFailure extends Error {
  readonly kind: ErrorKind;
  readonly retryAfterMs: number | undefined;
  constructor(kind: ErrorKind, message: string, retryAfterMs?: number) {
    super(message);
    this.kind = kind;
    this.retryAfterMs = retryAfterMs;
  }
  toError(): JobError {
    return { kind: this.kind, message: this.message, ...(this.retryAfterMs !== undefined ? { retry_after_ms: this.retryAfterMs } : {}) };
  }
}

/** Parses one frame from StockClerk, or null for anything that is not a message we know. */
export function parseServerMessage(data: unknown): ServerMessage | null {
  if (typeof data !== 'string') return null;
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    return null;
  }
  if (!msg || typeof msg !== 'object' || typeof (msg as { type?: unknown }).type !== 'string') return null;
  const m = msg as Record<string, unknown>;
  switch (m.type) {
    case 'welcome':
      return typeof m.marketplace_origin === 'string' && typeof m.channel_id === 'string' ? (m as unknown as ServerMessage) : null;
    case 'job': {
      const j = m.job as Record<string, unknown> | undefined;
      return j && typeof j.id === 'string' && typeof j.kind === 'string'
        ? { type: 'job', job: { ...(j as unknown as Job), payload: (j.payload ?? {}) as Record<string, unknown> } }
        : null;
    }
    case 'ack':
      return typeof m.job_id === 'string' ? { type: 'ack', job_id: m.job_id } : null;
    case 'ping':
      return { type: 'ping' };
    case 'error':
      return { type: 'error', message: String(m.message ?? '') };
    default:
      return null;
  }
}
