// Inbound webhooks at the HTTP edge: what is refused (and leaves no trace), what is recorded once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookPath } from '../../src/channels/url-secret.ts';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, quiescent, sale, type EmulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
let shop: EmulatedTenant;
/** The channel's own URL, secret included (what the platform was given). */
let url: string;
/** The same channel without the secret (what a forger can guess). */
let bare: string;
let txn = 500_000;

beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
  shop = await emulatedTenant(h, emus, { types: ['eposnow'], items: [{ sku: 'A-1', name: 'Apple', qty: 50 }] });
  const ch = shop.channels.eposnow!;
  url = h.url + webhookPath('eposnow', ch.channelId, ch.account.channel);
  bare = `${h.url}/webhooks/eposnow/${ch.channelId}`;
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

function transaction(productId: number, qty = 1, id = ++txn): string {
  return JSON.stringify({ Id: id, DateTime: new Date().toISOString(), LocationId: 4501, TransactionItems: [{ ProductId: productId, Quantity: qty }] });
}

async function post(body: string | Buffer, target = url) {
  const res = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

const stored = async () => (await h.sc.ctx.db.query(`select count(*)::int as n from channel_events where tenant_id=$1`, [shop.tenantId])).rows[0].n as number;
const movements = async () =>
  (await h.sc.ctx.db.query(`select count(*)::int as n from stock_movements where tenant_id=$1 and reason='sale'`, [shop.tenantId])).rows[0].n as number;
const onHand = async () => (await h.sc.ctx.db.query(`select sum(on_hand)::int as n from stock_levels where tenant_id=$1`, [shop.tenantId])).rows[0].n as number;
/** The emulated till numbers its products from 1001: A-1's id there. */
const productId = () => 1001;

describe('inbound webhooks', () => {
  it('the till sale the platform posts (unsigned, to the secret URL) moves the ledger once, within a second', async () => {
    await quiescent(h, emus);
    const before = await onHand();
    const sales = await movements();
    emus.eposnow.knobs.duplicateRate = 1;
    try {
      const started = Date.now();
      expect((await sale(emus, 'eposnow', shop.channels.eposnow!.accountId, 'A-1', 2)).ok).toBe(true);
      await eventually(async () => (await onHand()) === before - 2, 1500, 'the sale to reach the ledger');
      expect(Date.now() - started).toBeLessThan(1500);
      await emus.eposnow.drain();
    } finally {
      emus.eposnow.knobs.duplicateRate = 0;
    }
    await quiescent(h, emus);
    expect(await onHand()).toBe(before - 2);
    expect(await movements()).toBe(sales + 1);
  });

  it('a forged hint moves nothing: no secret, a wrong secret, or the right secret naming a transaction the till does not have', async () => {
    await quiescent(h, emus);
    const before = await onHand();
    const sales = await movements();
    const forged = transaction(productId(), 5, 990001);
    expect((await post(forged, bare)).status).toBe(401);
    expect((await post(forged, `${bare}/not-the-secret`)).status).toBe(401);
    const hinted = await post(forged);
    expect(hinted).toEqual({ status: 200, body: { received: 0, duplicates: 0 } }); // a hint: the poll it asks for reads the API, which has no such sale
    // The real sale's transaction id with made-up lines: the API's lines count, not the body's.
    const real = await sale(emus, 'eposnow', shop.channels.eposnow!.accountId, 'A-1', 1);
    await eventually(async () => (await onHand()) === before - 1, 5000, 'the real sale');
    const realId = (real.body as { transaction: { Id: number } }).transaction.Id;
    expect((await post(transaction(productId(), 20, realId))).status).toBe(200);
    await quiescent(h, emus);
    expect(await onHand()).toBe(before - 1);
    expect(await movements()).toBe(sales + 1);
  });

  it.each([
    ['no URL secret', () => post(transaction(1001), bare), 401, 'invalid_signature'],
    ['a wrong URL secret', () => post(transaction(1001), `${bare}/x${'a'.repeat(42)}`), 401, 'invalid_signature'],
    ['malformed JSON (right URL)', () => post('{"Id": 1, "TransactionItems": ['), 400, 'invalid_payload'],
    ['a JSON body of the wrong shape', () => post(JSON.stringify({ hello: 'world' })), 400, 'invalid_payload'],
    ['a huge body', () => post(Buffer.alloc(2 * 1024 * 1024, 'a')), 413, 'payload_too_large'],
    ['an unknown channel id', () => post(transaction(1001), `${h.url}/webhooks/eposnow/ch_0000000000000000000000000000dead`), 404, 'not_found'],
    ['an unknown channel type', () => post(transaction(1001), `${h.url}/webhooks/myspace/${shop.channels.eposnow!.channelId}`), 404, 'not_found'],
    ['the right id under the wrong type', () => post(transaction(1001), `${h.url}/webhooks/wix/${shop.channels.eposnow!.channelId}`), 404, 'not_found'],
  ])('refuses %s with a structured 4xx and stores nothing', async (_what, send, status, code) => {
    const before = await stored();
    const r = await send();
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(typeof r.body.error.request_id).toBe('string');
    expect(await stored()).toBe(before);
  });
});
