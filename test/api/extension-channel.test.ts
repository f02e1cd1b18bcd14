// A browser-extension channel (Vinted) from StockClerk's side of docs/extension-protocol.md: the
// extension here is a WebSocket client this test drives by hand (the real one, in chromium against
// the Vinted emulator, is test/browser/vinted.test.ts). Tokens are issued and revoked over REST;
// the socket refuses a bad or missing hello; jobs wait while no extension is connected, survive a
// socket that dies mid-job, and their results publish the product, hide it when stock runs out,
// and turn a Vinted sale into a movement.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { swatchPng } from '../../src/demo/swatch.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { client, expectError, type Call } from './support.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let call: Call;
let tenantId: string;
let locationId: string;
let channelId: string;
let productId: string;
let itemId: string;

interface Job {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  attempt: number;
}

/** The extension's side of the socket, driven by the test: every message kept, jobs answered by hand. */
class FakeExtension {
  readonly ws: WebSocket;
  readonly messages: Array<Record<string, unknown>> = [];
  closed: { code: number; reason: string } | null = null;
  readonly opened: Promise<void>;
  constructor(url: string) {
    this.ws = new WebSocket(url.replace(/^http/, 'ws') + '/api/v1/extension/socket');
    this.ws.on('message', (d) => this.messages.push(JSON.parse(d.toString())));
    this.ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }
  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }
  async hello(token: string): Promise<Record<string, unknown>> {
    await this.opened;
    this.send({ type: 'hello', token, version: 'test' });
    await eventually(() => this.messages.some((m) => m.type === 'welcome') || this.closed !== null, 5_000, 'welcome');
    return this.messages.find((m) => m.type === 'welcome')!;
  }
  jobs(kind?: string): Job[] {
    return this.messages
      .filter((m) => m.type === 'job')
      .map((m) => m.job as Job)
      .filter((j) => !kind || j.kind === kind);
  }
  async nextJob(kind: string, after = 0): Promise<Job> {
    await eventually(() => this.jobs(kind).length > after, 15_000, `a ${kind} job`);
    return this.jobs(kind)[after]!;
  }
  answer(job: Job, result: unknown): void {
    this.send({ type: 'result', job_id: job.id, ok: true, result });
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.ws.close();
    await eventually(() => this.closed !== null, 5_000, 'the socket to close');
  }
}

const publication = async () => (await call('GET', `/publications?product_id=${productId}&channel_id=${channelId}`)).body.data[0];
const level = async () => {
  const r = await call('GET', `/items/${itemId}`);
  return r.body.stock?.[0]?.on_hand ?? r.body.on_hand;
};

beforeAll(async () => {
  h = await startHarness({ tuning: { pollIntervalS: 1 } });
  const t = await registerTenant(h.url, 'Vintage Finds');
  tenantId = t.tenantId;
  locationId = t.locationId;
  call = client(h.url, t.token);
  const made = await call('POST', '/channels', { type: 'vinted', name: 'Vinted UK', base_url: 'https://www.vinted.co.uk', credentials: {} });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  channelId = made.body.id;
  const p = await call('POST', '/products', { title: 'Tweed jacket', description: 'Harris tweed, size M.', price_minor: 4500, variants: [{ sku: 'TWEED-1' }] });
  expect(p.status, JSON.stringify(p.body)).toBe(201);
  productId = p.body.id;
  itemId = p.body.variants[0].item_id;
  const img = await fetch(`${h.url}/api/v1/products/${productId}/images`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', authorization: `Bearer ${t.token}` },
    body: swatchPng([120, 90, 60], [230, 230, 230]),
  });
  expect(img.status).toBe(201);
  await recordMovements(h.sc.ctx.db, tenantId, [{ itemId, locationId, qtyDelta: 1, reason: 'receipt' }]);
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

describe('extension tokens', () => {
  it('are issued for an extension channel only, shown once, listed without the secret, and revocable', async () => {
    const issued = await call('POST', `/channels/${channelId}/extension-tokens`, { name: 'My laptop' });
    expect(issued.status, JSON.stringify(issued.body)).toBe(201);
    expect(issued.body.token).toMatch(/^sce_[A-Za-z0-9_-]{40,}$/);
    expect(issued.body).toMatchObject({ channel_id: channelId, name: 'My laptop', connected: false, revoked_at: null });
    const list = await call('GET', `/channels/${channelId}/extension-tokens`);
    expect(list.body.data.map((t: { id: string }) => t.id)).toContain(issued.body.id);
    expect(JSON.stringify(list.body)).not.toContain(issued.body.token);
    // The secret is stored hashed: the column never holds it.
    const { rows } = await h.sc.ctx.db.query(`select secret_hash from extension_tokens where id = $1`, [issued.body.id]);
    expect(rows[0].secret_hash).not.toContain(issued.body.token);

    const till = await call('POST', '/channels', {
      type: 'eposnow',
      name: 'Till',
      base_url: 'http://127.0.0.1:9',
      credentials: { api_key: 'k', api_secret: 's' },
    });
    expect(till.status, JSON.stringify(till.body)).toBe(201);
    expectError(await call('POST', `/channels/${till.body.id}/extension-tokens`, {}), 409, 'not_an_extension_channel');
    // A channel reached through its API says nothing of extensions.
    expect((await call('GET', `/channels/${till.body.id}`)).body.extension).toBeNull();
    expect((await call('DELETE', `/channels/${till.body.id}`)).status).toBe(204); // nothing answers at its address
    expectError(await call('POST', `/channels/ch_0123456789abcdef0123456789abcdef/extension-tokens`, {}), 404, 'not_found');
    expectError(await call('POST', `/channels/${channelId}/extension-tokens`, { name: '' }), 400, 'validation_failed');

    expect((await call('DELETE', `/extension-tokens/${issued.body.id}`)).status).toBe(204);
    const after = await call('GET', `/channels/${channelId}/extension-tokens`);
    expect(after.body.data.find((t: { id: string }) => t.id === issued.body.id).revoked_at).not.toBeNull();
    expectError(await call('DELETE', `/extension-tokens/xtk_0123456789abcdef0123456789abcdef`), 404, 'not_found');
  });

  it('the socket refuses an unknown or revoked token (4401) and a missing hello (4408)', async () => {
    const bad = new FakeExtension(h.url);
    await bad.opened;
    bad.send({ type: 'hello', token: 'sce_nottherightone' });
    await eventually(() => bad.closed !== null, 5_000, 'a refused hello');
    expect(bad.closed!.code).toBe(4401);

    const issued = await call('POST', `/channels/${channelId}/extension-tokens`, {});
    await call('DELETE', `/extension-tokens/${issued.body.id}`);
    const revoked = new FakeExtension(h.url);
    await revoked.hello(issued.body.token);
    expect(revoked.closed?.code).toBe(4401);

    const silent = new FakeExtension(h.url);
    await silent.opened;
    await eventually(() => silent.closed !== null, 8_000, 'the hello timeout');
    expect(silent.closed!.code).toBe(4408);
  });
});

describe('jobs through the extension', () => {
  let token: string;
  let tokenId: string;

  it('a publish waits while no extension is connected, runs once one pairs, and the item becomes a live listing', async () => {
    const issued = await call('POST', `/channels/${channelId}/extension-tokens`, { name: 'Browser' });
    token = issued.body.token;
    tokenId = issued.body.id;
    const dry = await call('POST', `/products/${productId}/publish`, { channel_ids: [channelId], dry_run: true });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(JSON.stringify(dry.body)).toContain('/api/v2/item_upload/items');

    const res = await call('POST', `/products/${productId}/publish`, { channel_ids: [channelId] });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    // Nobody to run it: it waits in the queue, the publication stays publishing.
    await eventually(
      async () => (await h.sc.ctx.db.query(`select 1 from extension_jobs where channel_id = $1 and kind = 'publish'`, [channelId])).rowCount === 1,
      10_000,
      'the publish job to be queued',
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await publication()).state).toBe('publishing');
    const ch = await call('GET', `/channels/${channelId}/extension-tokens`);
    expect(ch.body.data.find((t: { id: string }) => t.id === tokenId).connected).toBe(false);
    // The channel says so itself (the dashboard's "waiting for the extension").
    expect((await call('GET', `/channels/${channelId}`)).body.extension).toEqual({ connected: false, queued_jobs: 1, failed_jobs: 0, last_failure: null });

    const ext = new FakeExtension(h.url);
    const welcome = await ext.hello(token);
    expect(welcome).toMatchObject({ type: 'welcome', channel_id: channelId, channel_name: 'Vinted UK', marketplace_origin: 'https://www.vinted.co.uk' });
    ext.send({ type: 'status', logged_in: true, account: 'tweedseller' });
    const job = await ext.nextJob('publish');
    expect(job.payload).toMatchObject({ ref: productId, title: 'Tweed jacket', price: { amount: '45.00', currency: expect.any(String) } });
    expect((job.payload.photos as string[])[0]).toMatch(new RegExp(`^${h.url}/`));
    // Presence is stored at hello, the marketplace session when its status message is read: wait for both.
    await eventually(
      async () => {
        const t = (await call('GET', `/channels/${channelId}/extension-tokens`)).body.data.find((x: { id: string }) => x.id === tokenId);
        return t.connected && t.status !== null;
      },
      5_000,
      'presence and the reported session',
    );
    const seen = (await call('GET', `/channels/${channelId}/extension-tokens`)).body.data.find((t: { id: string }) => t.id === tokenId);
    expect(seen.status).toEqual({ logged_in: true, account: 'tweedseller' });
    // Sent and not yet answered: still waiting, now with an extension connected.
    expect((await call('GET', `/channels/${channelId}`)).body.extension).toEqual({ connected: true, queued_jobs: 1, failed_jobs: 0, last_failure: null });

    ext.answer(job, { item_id: 4242, url: 'https://www.vinted.co.uk/items/4242' });
    await eventually(() => ext.messages.some((m) => m.type === 'ack' && m.job_id === job.id), 5_000, 'the ack');
    await eventually(async () => (await publication())?.state === 'live', 30_000, 'the publication to go live');
    expect((await publication()).external_id).toBe('4242');
    const listings = await call('GET', `/listings?channel_id=${channelId}`);
    expect(listings.body.data.map((l: { external_id: string }) => l.external_id)).toContain('4242');
    // A late second answer for the same job changes nothing.
    ext.answer(job, { item_id: 9999 });
    await new Promise((r) => setTimeout(r, 300));
    expect((await publication()).external_id).toBe('4242');
    await ext.close();
  });

  it('a stock change is a job that survives a socket dying mid-job: the next extension is sent it again', async () => {
    const first = new FakeExtension(h.url);
    await first.hello(token);
    first.send({ type: 'status', logged_in: true, account: 'tweedseller' });
    // The last unit sells elsewhere (a manual adjustment): Vinted must stop offering it.
    await recordMovements(h.sc.ctx.db, tenantId, [{ itemId, locationId, qtyDelta: -1, reason: 'sale' }]);
    const hide = await first.nextJob('update');
    expect(hide.payload).toEqual({ item_id: '4242', hidden: true });
    // The socket dies without answering.
    first.ws.terminate();
    await eventually(() => first.closed !== null, 5_000, 'the socket to die');

    const second = new FakeExtension(h.url);
    await second.hello(token);
    second.send({ type: 'status', logged_in: true, account: 'tweedseller' });
    const again = await second.nextJob('update');
    expect(again.id).toBe(hide.id);
    expect(again.attempt).toBeGreaterThan(hide.attempt);
    second.answer(again, { item_id: '4242' });
    await eventually(
      async () => (await h.sc.ctx.db.query(`select status from extension_jobs where id = $1`, [hide.id])).rows[0].status === 'done',
      5_000,
      'the job done',
    );
    // A throttled answer puts a job back with the delay the extension asked for.
    await recordMovements(h.sc.ctx.db, tenantId, [{ itemId, locationId, qtyDelta: 1, reason: 'return' }]);
    const show = await second.nextJob('update', 1);
    expect(show.payload).toEqual({ item_id: '4242', hidden: false });
    second.send({ type: 'result', job_id: show.id, ok: false, error: { kind: 'throttled', message: '429', retry_after_ms: 1_000 } });
    const retried = await second.nextJob('update', 2);
    expect(retried.id).toBe(show.id);
    second.answer(retried, { item_id: '4242' });
    // A refusal is final: the channel shows it to the merchant with Vinted's words.
    expect((await call('GET', `/channels/${channelId}`)).body.extension).toMatchObject({ failed_jobs: 0, last_failure: null });
    await recordMovements(h.sc.ctx.db, tenantId, [{ itemId, locationId, qtyDelta: -1, reason: 'sale' }]);
    const refused = await second.nextJob('update', 3);
    second.send({ type: 'result', job_id: refused.id, ok: false, error: { kind: 'rejected', message: 'Vinted refused hiding item 4242 (400)' } });
    await eventually(async () => (await call('GET', `/channels/${channelId}`)).body.extension.failed_jobs === 1, 5_000, 'the failure to show');
    expect((await call('GET', `/channels/${channelId}`)).body.extension).toMatchObject({ last_failure: 'Vinted refused hiding item 4242 (400)' });
    await recordMovements(h.sc.ctx.db, tenantId, [{ itemId, locationId, qtyDelta: 1, reason: 'return' }]);
    second.answer(await second.nextJob('update', 4), { item_id: '4242' });
    await second.close();
  });

  it('a sale the extension reads from Vinted becomes one movement, read twice it still counts once; revoking the token closes the socket', async () => {
    const ext = new FakeExtension(h.url);
    await ext.hello(token);
    ext.send({ type: 'status', logged_in: true, account: 'tweedseller' });
    const before = await level();
    const sale = { transaction_id: 'T-1', item_id: 4242, status: 'completed', sold_at: new Date().toISOString() };
    // Every poll asks for sales; answer each with the same sale.
    const answered = new Set<string>();
    const answering = setInterval(() => {
      for (const j of ext.jobs('read_sales')) {
        if (answered.has(j.id)) continue;
        answered.add(j.id);
        ext.answer(j, { sales: [sale] });
      }
    }, 50);
    try {
      await eventually(async () => (await level()) === before - 1, 20_000, 'the sale to move the ledger');
      await eventually(() => answered.size >= 3, 20_000, 'more polls');
      expect(await level()).toBe(before - 1);
    } finally {
      clearInterval(answering);
    }
    const { rows } = await h.sc.ctx.db.query(
      `select count(*)::int as n from stock_movements where tenant_id = $1 and item_id = $2 and source_channel_id = $3 and qty_delta = -1`,
      [tenantId, itemId, channelId],
    );
    expect(rows[0].n).toBe(1);

    expect((await call('DELETE', `/extension-tokens/${tokenId}`)).status).toBe(204);
    await eventually(() => ext.closed !== null, 5_000, 'the revoked socket to close');
    expect(ext.closed!.code).toBe(4401);
  });

  it('a push posted to its webhook address is refused and stores nothing: Vinted sends none, only the extension speaks for it', async () => {
    const events = async () =>
      (await h.sc.ctx.db.query(`select count(*)::int as n from channel_events where tenant_id = $1 and channel_id = $2`, [tenantId, channelId])).rows[0].n;
    const before = await events();
    const forged = JSON.stringify({ transaction_id: 'FORGED-1', item_id: 4242, status: 'completed' });
    for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'application/json', 'x-signature': 'deadbeef' }]) {
      const res = await fetch(`${h.url}/webhooks/vinted/${channelId}`, { method: 'POST', headers, body: forged });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error?: { code?: string } }).error?.code).toBeTruthy();
    }
    expect(await events()).toBe(before);
  });

  describe('removing the channel', () => {
    it('takes its publications and their history with it (the product stays): 204, not a 500', async () => {
      expect((await publication())?.state).toBeTruthy();
      expect((await call('DELETE', `/channels/${channelId}`)).status).toBe(204);
      expect((await call('GET', `/publications?product_id=${productId}`)).body.data).toEqual([]);
      const { rows } = await h.sc.ctx.db.query(`select count(*)::int as n from publication_events where tenant_id = $1`, [tenantId]);
      expect(rows[0].n).toBe(0);
      expect((await call('GET', `/products/${productId}`)).status).toBe(200);
    });
  });
});
