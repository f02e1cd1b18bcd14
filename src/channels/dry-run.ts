// A dry run of an adapter's own code: inside `dryRun(fn)`, every call through httpCall that would
// change something on the platform is written down and not sent; reads go out as usual (a
// read-then-write adapter needs the platform's answer to decide what it would write). So the
// requests a stock push would send are the adapter's real requests, not a second description of
// them that could drift from the code. A refused write answers the adapter as a permanent error:
// adapters that push in batches mark those listings failed and carry on with the rest.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ChannelError } from './contract.ts';
import type { HttpCall } from './http-client.ts';

export interface HeldRequest {
  method: string;
  url: string;
  /** The parsed JSON body; an upload as its size; absent without a body. */
  body?: unknown;
}

interface DryScope {
  held: HeldRequest[];
  reads: number;
}

const scope = new AsyncLocalStorage<DryScope>();

/** The message a held write answers with (adapters put it in their per-listing error). */
export const NOT_SENT = 'dry run: not sent';

function parsedBody(body: unknown): unknown {
  if (body === undefined) return undefined;
  if (body instanceof Uint8Array) return { bytes: body.byteLength };
  if (typeof body === 'string') {
    try {
      return JSON.parse(body);
    } catch {
      return body;
    }
  }
  return body;
}

/** GraphQL reads travel as POSTs: a document that is not a mutation changes nothing. */
function isRead(call: HttpCall, body: unknown): boolean {
  if (call.method === 'GET') return true;
  if (call.method !== 'POST' || !body || typeof body !== 'object') return false;
  const q = (body as { query?: unknown }).query;
  return typeof q === 'string' && !/^\s*mutation\b/.test(q.replace(/^\s*#.*$/gm, ''));
}

/**
 * Called by httpCall before it sends: outside a dry run it does nothing. Inside one, a read is
 * counted and goes out; a write is held and answered with a permanent ChannelError.
 */
export function holdIfDry(call: HttpCall): void {
  const s = scope.getStore();
  if (!s) return;
  const body = parsedBody(call.body);
  if (isRead(call, body)) {
    s.reads++;
    return;
  }
  s.held.push({ method: call.method, url: call.url, ...(body === undefined ? {} : { body }) });
  throw new ChannelError('permanent', NOT_SENT);
}

/** Runs `fn` with writes held: what it would have sent, how many reads it made, and its own answer or error. */
export async function dryRun<T>(fn: () => Promise<T>): Promise<{ held: HeldRequest[]; reads: number; result: T | null; error: string | null }> {
  const s: DryScope = { held: [], reads: 0 };
  return scope.run(s, async () => {
    let result: T | null = null;
    let error: string | null = null;
    try {
      result = await fn();
    } catch (err) {
      error = (err as Error).message === NOT_SENT ? null : (err as Error).message;
    }
    return { held: s.held, reads: s.reads, result, error };
  });
}
