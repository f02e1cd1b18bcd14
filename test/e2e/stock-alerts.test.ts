// Low / out-of-stock alerts. The check after a stock change looks only at the items whose levels
// changed since the tenant's last check (a snapshot cursor, as Sync's), so its cost follows the
// change, not the size of the catalogue; a threshold change is checked in its own transaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unseenChange } from '../../src/db/push-cursor.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, type Call } from '../api/support.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof registerTenant>>;
let call: Call;

const item = async (sku: string, threshold: number) => {
  const r = await call('POST', '/items', { sku, name: sku, low_stock_threshold: threshold });
  expect(r.status).toBe(201);
  return r.body.id as string;
};
const adjust = async (itemId: string, qty: number) =>
  expect(
    (await call('POST', '/adjustments', { item_id: itemId, location_id: t.locationId, qty_delta: qty, reason: qty > 0 ? 'receipt' : 'adjustment' })).status,
  ).toBe(201);
const open = async () => {
  const r = await call('GET', '/alerts?status=open&limit=100');
  return (r.body.data as Array<{ type: string; subject: string }>).map((a) => `${a.type}:${a.subject}`).sort();
};
/** Level changes the tenant's alert check has not looked at yet. */
const unchecked = async () =>
  (
    await h.testDb.db.query(
      `select count(*)::int as n from stock_levels s left join stock_alert_cursors c on c.tenant_id = s.tenant_id
       where s.tenant_id = $1 and (c.tenant_id is null or ${unseenChange('s', 'c', 'cursor')})`,
      [t.tenantId],
    )
  ).rows[0].n as number;
const checked = () => eventually(async () => (await unchecked()) === 0, 5000, 'the alert check to catch up');

beforeAll(async () => {
  h = await startHarness();
  t = await registerTenant(h.url, 'Alert Co');
  call = client(h.url, t.token);
});

afterAll(async () => {
  await h?.stop();
});

describe('stock alerts', () => {
  it('raise for a changed item at or below its threshold, resolve when it recovers, and leave never-stocked items alone', async () => {
    const low = await item('LOW', 5);
    const fine = await item('FINE', 5);
    await item('NEVER', 5); // no stock ever: not "out of stock"
    await adjust(low, 3);
    await adjust(fine, 50);
    await eventually(async () => (await open()).join() === `low_stock:${low}`, 5000, 'low-stock alert for LOW only');
    await adjust(low, -3);
    await eventually(async () => (await open()).includes(`out_of_stock:${low}`), 5000, 'LOW out of stock');
    await adjust(low, 20);
    await eventually(async () => (await open()).length === 0, 5000, 'recovered');
  });

  it('a check reads only the items whose levels changed since the last one', async () => {
    await checked();
    expect(await open()).toEqual([]);
    const a = await item('A', 5);
    const b = await item('B', 5);
    await adjust(a, 10);
    await adjust(b, 10);
    await checked();
    // B becomes low behind the API's back (no level change, no check); then only A's level moves.
    await h.testDb.db.query(`update items set low_stock_threshold = 50 where tenant_id = $1 and id = $2`, [t.tenantId, b]);
    await adjust(a, -7);
    await eventually(async () => (await open()).includes(`low_stock:${a}`), 5000, 'A low');
    await checked();
    expect(await open()).toEqual([`low_stock:${a}`]);
    // A threshold changed through the API is checked at once, in the PATCH's own transaction.
    const c = await item('C', 0);
    await adjust(c, 4);
    await checked();
    expect((await call('PATCH', `/items/${c}`, { low_stock_threshold: 4 }, { 'if-match': '*' })).status).toBe(200);
    expect(await open()).toContain(`low_stock:${c}`);
  });
});
