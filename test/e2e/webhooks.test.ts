// Inbound webhooks at the HTTP edge: what is refused (and leaves no trace), what is recorded once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signEposWebhook } from '../../src/channels/eposnow/webhook.ts';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, quiescent, type EmulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
let shop: EmulatedTenant;
let url: string;
let secret: string;
let txn = 500_000;

beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
  shop = await emulatedTenant(h, emus, { types: ['eposnow'], items: [{ sku: 'A-1', name: 'Apple', qty: 50 }] });
  url = `${h.url}/webhooks/eposnow/${shop.channels.eposnow!.channelId}`;
  secret = shop.channels.eposnow!.account.webhookSecret;
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

function transaction(productId: number, qty = 1): string {
  return JSON.stringify({ Id: ++txn, DateTime: new Date().toISOString(), LocationId: 4501, TransactionItems: [{ ProductId: productId, Quantity: qty }] });
}

async function post(body: string | Buffer, opts: { secret?: string; ts?: number; sign?: boolean; target?: string } = {}) {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-epos-timestamp': String(ts) };
  if (opts.sign !== false) headers['x-epos-signature'] = signEposWebhook(opts.secret ?? secret, ts, body);
  const res = await fetch(opts.target ?? url, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

const stored = async () => (await h.sc.ctx.db.query(`select count(*)::int as n from channel_events where tenant_id=$1`, [shop.tenantId])).rows[0].n as number;
const movements = async () =>
  (await h.sc.ctx.db.query(`select count(*)::int as n from stock_movements where tenant_id=$1 and reason='sale'`, [shop.tenantId])).rows[0].n as number;

describe('inbound webhooks', () => {
  it('accepts a signed event, records it once, and a duplicate changes nothing', async () => {
    const body = transaction(1001, 2);
    const first = await post(body);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ received: 1, duplicates: 0 });
    const again = await post(body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ received: 0, duplicates: 1 });
    await quiescent(h, emus);
    expect(await movements()).toBe(1);
  });

  it.each([
    ['a bad signature', () => post(transaction(1001), { secret: 'not-the-secret' }), 401, 'invalid_signature'],
    ['no signature', () => post(transaction(1001), { sign: false }), 401, 'invalid_signature'],
    ['a stale timestamp', () => post(transaction(1001), { ts: Math.floor(Date.now() / 1000) - 600 }), 401, 'stale_timestamp'],
    ['malformed JSON (correctly signed)', () => post('{"Id": 1, "TransactionItems": [', {}), 400, 'invalid_payload'],
    ['a JSON body of the wrong shape', () => post(JSON.stringify({ hello: 'world' })), 400, 'invalid_payload'],
    ['a huge body', () => post(Buffer.alloc(2 * 1024 * 1024, 'a')), 413, 'payload_too_large'],
    ['an unknown channel id', () => post(transaction(1001), { target: `${h.url}/webhooks/eposnow/ch_0000000000000000000000000000dead` }), 404, 'not_found'],
    ['an unknown channel type', () => post(transaction(1001), { target: `${h.url}/webhooks/myspace/${shop.channels.eposnow!.channelId}` }), 404, 'not_found'],
    [
      'the right id under the wrong type',
      () => post(transaction(1001), { target: `${h.url}/webhooks/wix/${shop.channels.eposnow!.channelId}` }),
      404,
      'not_found',
    ],
  ])('refuses %s with a structured 4xx and stores nothing', async (_what, send, status, code) => {
    const before = await stored();
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(typeof r.body.error.request_id).toBe('string');
    expect(await stored()).toBe(before);
  });
});
