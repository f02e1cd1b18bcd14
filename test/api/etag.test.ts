// ETags and If-Match: every single-resource response carries an ETag; PATCH and DELETE of items
// and locations need If-Match (428 without, 412 when stale), so two writers holding the same
// version cannot both win.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError, type Call } from './support.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof registerTenant>>;
let call: Call;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  t = await registerTenant(h.url, 'Etag Co');
  call = client(h.url, t.token);
});

afterAll(async () => {
  await h?.stop();
});

describe('items', () => {
  it('PATCH needs If-Match: 428 without, 412 when stale, 200 with the current ETag (and a new one back)', async () => {
    const created = await call('POST', '/items', { sku: 'JAM', name: 'Jam' });
    const id = created.body.id;
    const v1 = created.headers.get('etag')!;
    expect(v1).toMatch(/^"v1"$/);
    expect((await call('GET', `/items/${id}`)).headers.get('etag')).toBe(v1);
    expectError(await call('PATCH', `/items/${id}`, { name: 'Jam 2' }), 428, 'precondition_required');
    expectError(await call('PATCH', `/items/${id}`, { name: 'Jam 2' }, { 'if-match': '"v9"' }), 412, 'precondition_failed');
    const ok = await call('PATCH', `/items/${id}`, { name: 'Jam 2' }, { 'if-match': v1 });
    expect(ok.status).toBe(200);
    const v2 = ok.headers.get('etag')!;
    expect(v2).not.toBe(v1);
    expectError(await call('PATCH', `/items/${id}`, { name: 'Jam 3' }, { 'if-match': v1 }), 412, 'precondition_failed');
    expect((await call('GET', `/items/${id}`)).body.name).toBe('Jam 2');
    // Stock moving does not change the item's version: a rename is not refused because of a sale.
    await call('POST', '/adjustments', { item_id: id, location_id: t.locationId, qty_delta: 3, reason: 'receipt' });
    expect((await call('GET', `/items/${id}`)).headers.get('etag')).toBe(v2);
  });

  it('two writers with the same ETag: exactly one wins, the other gets 412', async () => {
    for (let round = 0; round < 5; round++) {
      const item = await call('POST', '/items', { sku: `RACE-${round}`, name: 'Race' });
      const etag = item.headers.get('etag')!;
      const [a, b] = await Promise.all([
        call('PATCH', `/items/${item.body.id}`, { name: 'Writer A' }, { 'if-match': etag }),
        call('PATCH', `/items/${item.body.id}`, { name: 'Writer B' }, { 'if-match': etag }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 412]);
      const winner = a.status === 200 ? 'Writer A' : 'Writer B';
      expect((await call('GET', `/items/${item.body.id}`)).body).toMatchObject({ name: winner, version: 2 });
    }
  });

  it('DELETE needs If-Match too', async () => {
    const item = await call('POST', '/items', { sku: 'GONE', name: 'Gone' });
    expectError(await call('DELETE', `/items/${item.body.id}`), 428, 'precondition_required');
    expectError(await call('DELETE', `/items/${item.body.id}`, undefined, { 'if-match': '"v2"' }), 412, 'precondition_failed');
    expect((await call('DELETE', `/items/${item.body.id}`, undefined, { 'if-match': item.headers.get('etag')! })).status).toBe(204);
    expectError(await call('DELETE', `/items/${item.body.id}`, undefined, { 'if-match': '*' }), 404, 'not_found');
  });
});

describe('locations', () => {
  it('PATCH and DELETE need If-Match; a location with stock history cannot be deleted', async () => {
    const loc = await call('POST', '/locations', { name: 'Shed' });
    const etag = loc.headers.get('etag')!;
    expectError(await call('PATCH', `/locations/${loc.body.id}`, { name: 'Barn' }), 428, 'precondition_required');
    expectError(await call('PATCH', `/locations/${loc.body.id}`, { name: 'Barn' }, { 'if-match': '"v7"' }), 412, 'precondition_failed');
    const renamed = await call('PATCH', `/locations/${loc.body.id}`, { name: 'Barn' }, { 'if-match': etag });
    expect(renamed.status).toBe(200);
    expectError(await call('DELETE', `/locations/${loc.body.id}`, undefined, { 'if-match': etag }), 412, 'precondition_failed');
    expect((await call('DELETE', `/locations/${loc.body.id}`, undefined, { 'if-match': renamed.headers.get('etag')! })).status).toBe(204);
    const main = await call('GET', `/locations/${t.locationId}`);
    const item = await call('POST', '/items', { sku: 'HELD', name: 'Held' });
    await call('POST', '/adjustments', { item_id: item.body.id, location_id: t.locationId, qty_delta: 1, reason: 'receipt' });
    expectError(await call('DELETE', `/locations/${t.locationId}`, undefined, { 'if-match': main.headers.get('etag')! }), 409, 'conflict');
  });
});

describe('other single resources', () => {
  it('carry an ETag that changes with the representation', async () => {
    const a = await call('GET', '/tenant');
    expect(a.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect((await call('GET', '/tenant')).headers.get('etag')).toBe(a.headers.get('etag'));
    await call('PATCH', '/tenant', { name: 'Etag Co 2' });
    expect((await call('GET', '/tenant')).headers.get('etag')).not.toBe(a.headers.get('etag'));
    const me = await call('GET', '/me');
    expect(me.headers.get('etag')).toBeTruthy();
    // Lists do not.
    expect((await call('GET', '/items')).headers.get('etag')).toBeNull();
  });
});
