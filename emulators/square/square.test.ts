// The Square emulator on its own, over HTTP: what Square documents about counts (re-sequencing by
// occurred_at, newest first, updated_after, cursors), idempotency keys, ignore_unchanged_counts,
// errors, and the seller's state across a restart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../kit/index.ts';
import { createSquareEmulator, type SquareAccount } from './index.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'square-emu-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'EAAA-emu';
const ITEMS = [
  { sku: 'A', name: 'Apple', qty: 10 },
  { sku: 'B', name: 'Bread', qty: 4 },
  { sku: 'C', name: 'Cake', qty: 1 },
];

async function call(emu: Emulator<SquareAccount>, method: string, url: string, body?: unknown, token = TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${emu.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'square-version': '2025-01-23', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}
const physical = (id: string, loc: string, quantity: string, at: Date) => ({
  type: 'PHYSICAL_COUNT',
  physical_count: { catalog_object_id: id, location_id: loc, state: 'IN_STOCK', quantity, occurred_at: at.toISOString() },
});
const adjustment = (id: string, loc: string, quantity: string, at: Date) => ({
  type: 'ADJUSTMENT',
  adjustment: { catalog_object_id: id, location_id: loc, from_state: 'IN_STOCK', to_state: 'SOLD', quantity, occurred_at: at.toISOString() },
});

describe('Square emulator', () => {
  it('re-sequences changes by occurred_at, lists counts newest first with cursors, and honours updated_after', async () => {
    const emu = createSquareEmulator();
    await emu.listen();
    try {
      const acc = emu.addAccount({ id: 's', credentials: { access_token: TOKEN }, items: ITEMS });
      const loc = acc.locations[0]!.id;
      const [a, b] = acc.variations;
      const t = Date.now();
      // An adjustment that occurred before a later physical count is superseded by it; one after is applied on top.
      const r = await call(emu, 'POST', '/v2/inventory/changes/batch-create', {
        idempotency_key: 'k-1',
        changes: [
          adjustment(a!.id, loc, '2', new Date(t + 3000)),
          physical(a!.id, loc, '20', new Date(t + 2000)),
          adjustment(a!.id, loc, '5', new Date(t + 1000)),
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.counts).toEqual([expect.objectContaining({ catalog_object_id: a!.id, quantity: '18', state: 'IN_STOCK' })]);

      const since = r.body.counts[0].calculated_at;
      await call(emu, 'POST', '/v2/inventory/changes/batch-create', { idempotency_key: 'k-2', changes: [adjustment(b!.id, loc, '1', new Date())] });
      const newer = await call(emu, 'POST', '/v2/inventory/counts/batch-retrieve', { updated_after: since });
      expect(newer.body.counts.map((c: { catalog_object_id: string }) => c.catalog_object_id)).toEqual([b!.id]);

      const first = await call(emu, 'POST', '/v2/inventory/counts/batch-retrieve', { location_ids: [loc], limit: 2 });
      expect(first.body.counts).toHaveLength(2);
      expect(first.body.counts[0].calculated_at >= first.body.counts[1].calculated_at).toBe(true);
      const second = await call(emu, 'POST', '/v2/inventory/counts/batch-retrieve', { location_ids: [loc], limit: 2, cursor: first.body.cursor });
      expect(second.body.counts).toHaveLength(1);
      expect(second.body.cursor).toBeUndefined();
      // A cursor belongs to its query.
      const wrong = await call(emu, 'POST', '/v2/inventory/counts/batch-retrieve', { location_ids: [loc], limit: 3, cursor: first.body.cursor });
      expect(wrong.body.errors[0]).toMatchObject({ category: 'INVALID_REQUEST_ERROR', code: 'INVALID_CURSOR' });
      expect((await call(emu, 'POST', '/v2/inventory/counts/batch-retrieve', { limit: 1001 })).body.errors[0].code).toBe('VALUE_TOO_HIGH');
    } finally {
      await emu.close();
    }
  });

  it('idempotency: same key and body replays; same key, other body is IDEMPOTENCY_KEY_REUSED; unchanged counts are ignored', async () => {
    const emu = createSquareEmulator();
    await emu.listen();
    const writes: unknown[] = [];
    emu.events.on('write', (w) => writes.push(w));
    try {
      const acc = emu.addAccount({ id: 's', credentials: { access_token: TOKEN }, items: ITEMS });
      const loc = acc.locations[0]!.id;
      const id = acc.variations[0]!.id;
      const body = { idempotency_key: 'same', changes: [physical(id, loc, '7', new Date())] };
      const one = await call(emu, 'POST', '/v2/inventory/changes/batch-create', body);
      const two = await call(emu, 'POST', '/v2/inventory/changes/batch-create', { changes: body.changes, idempotency_key: 'same' });
      expect(two).toEqual(one);
      expect(writes).toHaveLength(1);
      const other = await call(emu, 'POST', '/v2/inventory/changes/batch-create', { ...body, changes: [physical(id, loc, '8', new Date())] });
      expect(other.status).toBe(400);
      expect(other.body.errors[0]).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'idempotency_key' });
      // The same count under a new key changes nothing (ignore_unchanged_counts defaults to true).
      const unchanged = await call(emu, 'POST', '/v2/inventory/changes/batch-create', {
        idempotency_key: 'new',
        changes: [physical(id, loc, '7', new Date())],
      });
      expect(unchanged.body.counts[0].calculated_at).toBe(one.body.counts[0].calculated_at);
      expect(writes).toHaveLength(1);
      // Refusals: no key, too many changes, a quantity that is not a decimal string, a bad state.
      expect((await call(emu, 'POST', '/v2/inventory/changes/batch-create', { changes: body.changes })).body.errors[0].code).toBe('MISSING_REQUIRED_PARAMETER');
      const many = Array.from({ length: 101 }, () => physical(id, loc, '1', new Date()));
      expect((await call(emu, 'POST', '/v2/inventory/changes/batch-create', { idempotency_key: 'x', changes: many })).body.errors[0].code).toBe(
        'ARRAY_LENGTH_TOO_LONG',
      );
      const numeric = {
        idempotency_key: 'y',
        changes: [{ type: 'PHYSICAL_COUNT', physical_count: { ...physical(id, loc, '1', new Date()).physical_count, quantity: 3 } }],
      };
      expect((await call(emu, 'POST', '/v2/inventory/changes/batch-create', numeric)).body.errors[0].code).toBe('INVALID_VALUE');
      expect((await call(emu, 'GET', '/v2/locations', undefined, 'nope')).body.errors[0]).toMatchObject({
        category: 'AUTHENTICATION_ERROR',
        code: 'UNAUTHORIZED',
      });
      expect((await call(emu, 'GET', '/v2/locations')).status).toBe(200);
    } finally {
      await emu.close();
    }
  });

  it('keeps counts, catalog ids, idempotency answers and issued tokens across a restart', async () => {
    const file = path.join(dir, 'square.json');
    let emu = createSquareEmulator({ stateFile: file });
    await emu.listen();
    const acc = emu.addAccount({
      id: 's',
      credentials: { access_token: TOKEN, client_id: 'app', client_secret: 'sec', redirect_uri: 'https://x.invalid/cb' },
      items: ITEMS,
    });
    const loc = acc.locations[0]!.id;
    const id = acc.variations[1]!.id;
    await fetch(`${emu.url}/_control/accounts/s/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'A', qty: 3 }),
    });
    const body = { idempotency_key: 'persist', changes: [physical(id, loc, '9', new Date())] };
    const first = await call(emu, 'POST', '/v2/inventory/changes/batch-create', body);
    const { code } = (await (await fetch(`${emu.url}/_control/accounts/s/code`, { method: 'POST' })).json()) as { code: string };
    const tok = await fetch(`${emu.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'app', client_secret: 'sec', grant_type: 'authorization_code', code }),
    }).then((r) => r.json() as Promise<{ access_token: string; refresh_token: string }>);
    const catalog = (await call(emu, 'GET', '/v2/catalog/list?types=ITEM')).body;
    await emu.close();

    emu = createSquareEmulator({ stateFile: file });
    await emu.listen();
    try {
      expect(emu.spec.state(emu.accounts.get('s')!).map((s) => [s.sku, s.qty])).toEqual([
        ['A', 7],
        ['B', 9],
        ['C', 1],
      ]);
      expect((await call(emu, 'GET', '/v2/catalog/list?types=ITEM')).body).toEqual(catalog);
      expect(await call(emu, 'POST', '/v2/inventory/changes/batch-create', body)).toEqual(first);
      expect((await call(emu, 'GET', '/v2/locations', undefined, tok.access_token)).status).toBe(200);
      const renewed = await fetch(`${emu.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'app', client_secret: 'sec', grant_type: 'refresh_token', refresh_token: tok.refresh_token }),
      });
      expect(renewed.status).toBe(200);
    } finally {
      await emu.close();
    }
  });
});
