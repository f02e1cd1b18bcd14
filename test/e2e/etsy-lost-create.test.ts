// Etsy's createDraftListing takes no idempotency key. When Etsy applies the create but its answer
// never arrives, the publishing job's retry must not create a second draft: it looks for the one
// the lost attempt made and adopts it. A proxy between StockClerk and the Etsy emulator loses the
// first create's answer on purpose (after Etsy applied it), or the create itself (before it
// reached Etsy), so the failure is the same on every run.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Listing } from '../../emulators/etsy/index.ts';
import { connectEmulatedChannel, startEmulators, type ConnectedChannel, type EmulatorSet } from '../../src/demo/emulated.ts';
import { swatchPng } from '../../src/demo/swatch.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { client } from '../api/support.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

const CREATE = /^\/v3\/application\/shops\/[^/]+\/listings$/;

/** What the proxy does to the next createDraftListing: pass it, drop the answer after Etsy applied it, or drop the request unsent. */
type Mode = 'pass' | 'lose_answer' | 'lose_request';

/** Forwards everything to `target`; the next create suffers `mode`, the ones after pass. */
function lossyProxy(target: string) {
  const p = {
    mode: 'pass' as Mode,
    creates: 0,
    applied: 0,
    url: '',
    server: null as Server | null,
    /** Runs while a lost answer is held back (Etsy applied the create; StockClerk has heard nothing yet). */
    onLost: null as (() => Promise<void>) | null,
  };
  p.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const isCreate = req.method === 'POST' && CREATE.test(new URL(req.url!, 'http://x').pathname);
      const mode = isCreate ? p.mode : 'pass';
      if (isCreate) {
        p.creates++;
        p.mode = 'pass';
      }
      if (mode === 'lose_request') return req.socket.destroy();
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<
        string,
        string
      >;
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const up = await fetch(`${target}${req.url}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : body });
      const bytes = Buffer.from(await up.arrayBuffer());
      if (isCreate && up.ok) p.applied++;
      if (mode === 'lose_answer') {
        await p.onLost?.().catch(() => {});
        return req.socket.destroy();
      }
      const out: Record<string, string> = {};
      up.headers.forEach((v, k) => {
        if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding', 'keep-alive'].includes(k)) out[k] = v;
      });
      res.writeHead(up.status, out).end(bytes);
    });
  });
  return p;
}

let h: Harness;
let emus: EmulatorSet;
let call: ReturnType<typeof client>;
let tenantId: string;
let token: string;
let locationId: string;
let etsy: ConnectedChannel;
let proxy: ReturnType<typeof lossyProxy>;

beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
  const t = await registerTenant(h.url, 'Etsy lost create');
  tenantId = t.tenantId;
  token = t.token;
  locationId = t.locationId;
  call = client(h.url, token);
  proxy = lossyProxy(emus.etsy.url);
  await new Promise<void>((r) => proxy.server!.listen(0, '127.0.0.1', r));
  proxy.url = `http://127.0.0.1:${(proxy.server!.address() as AddressInfo).port}`;
  etsy = await connectEmulatedChannel(h.sc.ctx, {
    tenantId,
    type: 'etsy',
    emulator: emus.etsy,
    name: 'etsy',
    stockclerkUrl: h.url,
    items: [],
    locationIds: [locationId],
  });
  // StockClerk talks to Etsy through the proxy from now on (a changed row is a new adapter).
  await h.sc.ctx.db.query(`update channels set base_url = $3, updated_at = now() where tenant_id = $1 and id = $2`, [tenantId, etsy.channelId, proxy.url]);
});
afterAll(async () => {
  await new Promise((r) => proxy?.server?.close(r));
  await emus?.close();
  await h?.stop();
});

/** A product with stock and an image (Etsy activates nothing less), published to Etsy; its settled publication. */
async function publish(title: string) {
  const made = await call('POST', '/products', {
    title,
    description: `${title}, made by hand.`,
    price_minor: 1800,
    variants: [{ sku: title.toUpperCase().replace(/\W+/g, '-') }],
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  const img = await fetch(`${h.url}/api/v1/products/${made.body.id}/images`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', authorization: `Bearer ${token}` },
    body: swatchPng([90, 120, 150], [230, 230, 230]),
  });
  expect(img.status).toBe(201);
  await recordMovements(h.sc.ctx.db, tenantId, [{ itemId: made.body.variants[0].item_id, locationId, qtyDelta: 5, reason: 'receipt' as const }]);
  const res = await call('POST', `/products/${made.body.id}/publish`, { channel_ids: [etsy.channelId] });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const pub = async () => (await call('GET', `/publications?product_id=${made.body.id}&channel_id=${etsy.channelId}`)).body.data[0];
  await eventually(async () => (await pub())?.state !== 'publishing', 60_000, 'the publication to settle');
  return pub();
}

const listings = (): Listing[] => emus.etsy.accounts.get(etsy.accountId)!.listings;

describe('Etsy: a create whose answer was lost', () => {
  it('applied by Etsy, answer lost: the retry adopts the draft it made (one listing, one create)', async () => {
    const before = listings().length;
    proxy.creates = proxy.applied = 0;
    proxy.mode = 'lose_answer';
    // While the answer is out, the publication says so durably (a retry on any worker reads it);
    // the mark is the job's, not a value the API shows among the captured ones.
    let meanwhile: { mark: string | undefined; shown: Record<string, string> } | null = null;
    proxy.onLost = async () => {
      const { rows } = await h.sc.ctx.db.query(`select id, captured from publications where tenant_id = $1 and channel_id = $2 and state = 'publishing'`, [
        tenantId,
        etsy.channelId,
      ]);
      meanwhile = { mark: rows[0].captured['@awaiting'], shown: (await call('GET', `/publications/${rows[0].id}`)).body.captured };
    };
    const p = await publish('Walnut spoon');
    proxy.onLost = null;
    expect(meanwhile).toMatchObject({ mark: expect.stringMatching(/^\d+@\d{4}-/) });
    expect(meanwhile!.shown).not.toHaveProperty('@awaiting');
    expect(p.state, p.last_error ?? '').toBe('live');
    // One create went out, Etsy applied it, and the retry sent no second one.
    expect([proxy.creates, proxy.applied]).toEqual([1, 1]);
    const made = listings().slice(before);
    expect(made.map((l) => [l.title, l.state])).toEqual([['Walnut spoon', 'active']]);
    expect(p.external_id).toBe(String(made[0]!.listing_id));
    expect(p.captured).toEqual({});
  });

  it('lost before it reached Etsy: the retry finds no draft and creates it (one listing)', async () => {
    const before = listings().length;
    proxy.creates = proxy.applied = 0;
    proxy.mode = 'lose_request';
    const p = await publish('Ash bowl');
    expect(p.state, p.last_error ?? '').toBe('live');
    expect([proxy.creates, proxy.applied]).toEqual([2, 1]);
    const made = listings().slice(before);
    expect(made.map((l) => [l.title, l.state])).toEqual([['Ash bowl', 'active']]);
    expect(p.external_id).toBe(String(made[0]!.listing_id));
  });
});
