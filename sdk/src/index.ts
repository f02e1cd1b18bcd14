// StockClerk's typed Node SDK: the paths and shapes are generated from the API's OpenAPI document
// (schema.d.ts, openapi-typescript); calls go through openapi-fetch, over a fetch that makes POSTs
// idempotent and retries what is safe to retry (retry.ts). Helpers: updateWithIfMatch (no lost
// updates between two writers) and verifyWebhook (Standard Webhooks signatures).
import createClient, { type Client } from 'openapi-fetch';
import { retryingFetch, type RetryOptions } from './retry.ts';
import type { components, paths } from './schema.d.ts';

export type { components, paths } from './schema.d.ts';
export { retryingFetch, type RetryOptions } from './retry.ts';
export { signWebhook, verifyWebhook, WEBHOOK_TOLERANCE_S, type WebhookHeaders, type WebhookVerification } from './webhooks.ts';

export type Schemas = components['schemas'];
export type StockClerkClient = Client<paths>;

export interface StockClerkOptions {
  /** Where StockClerk answers, e.g. https://stockclerk.example.com */
  baseUrl: string;
  /** An API key (sck_...), a platform key (scp_...) or a session token. */
  apiKey: string;
  /** Platform keys only: the tenant every call acts on. */
  tenantId?: string;
  retry?: RetryOptions;
  /** The underlying fetch (default: the global one). */
  fetch?: typeof fetch;
}

/** A typed client: `sc.GET('/api/v1/items/{id}', { params: { path: { id } } })`. */
export function createStockClerk(opts: StockClerkOptions): StockClerkClient {
  return createClient<paths>({
    baseUrl: opts.baseUrl.replace(/\/$/, ''),
    headers: { authorization: `Bearer ${opts.apiKey}`, ...(opts.tenantId ? { 'x-tenant-id': opts.tenantId } : {}) },
    fetch: retryingFetch(opts.fetch ?? globalThis.fetch, opts.retry),
  });
}

export class StockClerkError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
    super(e ? `${status} ${e.code}: ${e.message}` : `StockClerk answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Read-modify-write without lost updates: reads the resource (and its ETag), asks `change` for the
 * patch, sends it with If-Match; when another writer got there first (412) it reads again and
 * asks again, up to `attempts` times. `change` returning null means nothing to change.
 */
export async function updateWithIfMatch<T, P>(
  read: () => Promise<Answer<T>>,
  change: (current: T) => P | null | Promise<P | null>,
  write: (patch: P, ifMatch: string) => Promise<Answer<T>>,
  attempts = 5,
): Promise<T> {
  for (let i = 0; ; i++) {
    const cur = await read();
    if (cur.data === undefined) throw new StockClerkError(cur.response.status, cur.error);
    const etag = cur.response.headers.get('etag');
    if (!etag) throw new Error('The resource came without an ETag');
    const patch = await change(cur.data);
    if (patch === null) return cur.data;
    const res = await write(patch, etag);
    if (res.data !== undefined) return res.data;
    if (res.response.status !== 412 || i + 1 >= attempts) throw new StockClerkError(res.response.status, res.error);
  }
}

type ItemPatch = NonNullable<paths['/api/v1/items/{id}']['patch']['requestBody']>['content']['application/json'];

/** updateWithIfMatch for an item. */
export function updateItem(
  sc: StockClerkClient,
  id: string,
  change: (current: Schemas['ItemDetail']) => ItemPatch | null | Promise<ItemPatch | null>,
  attempts = 5,
) {
  return updateWithIfMatch(
    () => sc.GET('/api/v1/items/{id}', { params: { path: { id } } }),
    change,
    (body, ifMatch) => sc.PATCH('/api/v1/items/{id}', { params: { path: { id }, header: { 'If-Match': ifMatch } }, body }),
    attempts,
  );
}

/** Polls a job until it has finished (succeeded or failed). */
export async function waitForJob(sc: StockClerkClient, id: string, opts: { intervalMs?: number; timeoutMs?: number } = {}): Promise<Schemas['Job']> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
  for (;;) {
    const { data, error, response } = await sc.GET('/api/v1/jobs/{id}', { params: { path: { id } } });
    if (!data) throw new StockClerkError(response.status, error);
    if (data.status === 'succeeded' || data.status === 'failed') return data;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${data.status}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
  }
}
