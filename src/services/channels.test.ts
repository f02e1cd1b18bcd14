// Channel and listing rules below HTTP, against a real database: what a settings change sets off
// (listings marked for a push and one push job, only when what the channel should hold changed),
// settings and credentials checked against the channel type's module, and the "sync now" actions.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { CHANNEL_TYPES, CHANNELS, credentialFields } from '../channels/registry.ts';
import { Sealer } from '../db/crypto.ts';
import { withTx } from '../db/pool.ts';
import { createItems, createTenant } from '../db/tenants.ts';
import { AppError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import * as channels from './channels.ts';
import * as listings from './listings.ts';
import type { Scope } from './scope.ts';

let t: TestDb;
let scope: Scope;
let loc: string;
let itemIds: string[];
const sealer = new Sealer(randomBytes(32));
// Any registered type will do: the rules are the same for all (its credentials are whatever it declares).
const TYPE = CHANNEL_TYPES[0]!;
const CREDENTIALS = Object.fromEntries(credentialFields(CHANNELS[TYPE]).map((f) => [f.name, `${f.name}-value`]));

beforeAll(async () => {
  t = await createTestDb();
  const ten = await createTenant(t.db, { name: 'Channels Co' });
  // More channels than a trial's 3 shops (plan limits have their own suite, test/api/billing.test.ts).
  await t.db.query(`update tenants set plan = 'enterprise' where id = $1`, [ten.tenantId]);
  scope = { tenantId: ten.tenantId, actor: { type: 'user', id: 'usr_test' }, requestId: 'req_test' };
  loc = ten.locationId;
  itemIds = await createItems(t.db, scope.tenantId, [
    { sku: 'A-1', name: 'A' },
    { sku: 'B-1', name: 'B' },
  ]);
});
afterAll(() => t.drop());
// No worker runs here: what a case queued stays in the outbox for it to read.
beforeEach(() => t.db.query(`delete from job_outbox`));

const tx = <T>(fn: (tx: Parameters<Parameters<typeof withTx>[1]>[0]) => Promise<T>) => withTx(t.db, fn);

async function channel(settings: Record<string, unknown> = { location_ids: [loc] }): Promise<string> {
  const c = await tx((q) =>
    channels.create(q, scope, sealer, { type: TYPE, name: 'Shop', base_url: 'http://127.0.0.1:1', credentials: CREDENTIALS, settings }),
  );
  return c.id as string;
}

async function listing(channelId: string, itemId: string | null, state = 'in_sync'): Promise<string> {
  const id = newId('lst');
  await t.db.query(
    `insert into listings (tenant_id, id, channel_id, item_id, external_id, state, dirty_seq, pushed_seq) values ($1, $2, $3, $4, $2, $5, 3, 3)`,
    [scope.tenantId, id, channelId, itemId, state],
  );
  return id;
}

const listingRow = async (id: string) =>
  (await t.db.query<{ state: string; dirty_seq: number }>(`select state, dirty_seq::int from listings where tenant_id = $1 and id = $2`, [scope.tenantId, id]))
    .rows[0]!;

/** Push jobs queued, as channel ids (one entry per outbox row). */
const queuedPushes = async () =>
  (await t.db.query<{ channel_id: string }>(`select payload->>'channelId' as channel_id from job_outbox where task = 'sync_push' order by 1`)).rows.map(
    (r) => r.channel_id,
  );

const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
};

describe('channels.update: settings', () => {
  it('a change to what the channel should hold marks its matched listings pending and queues one push', async () => {
    const ch = await channel();
    const a = await listing(ch, itemIds[0]!);
    const failed = await listing(ch, itemIds[1]!, 'failed');
    const unmatched = await listing(ch, null, 'unmatched');
    const other = await listing(await channel(), itemIds[0]!);
    await t.db.query(`delete from job_outbox`);

    const out = await tx((q) => channels.update(q, scope, sealer, ch, { settings: { default_buffer: 2, percent: 0.5 } }));
    expect(out.settings).toEqual({ location_ids: [loc], default_buffer: 2, percent: 0.5 });

    expect(await listingRow(a)).toEqual({ state: 'pending', dirty_seq: 4 });
    // A listing a merchant must look at keeps its state until a push settles it.
    expect(await listingRow(failed)).toEqual({ state: 'failed', dirty_seq: 4 });
    expect(await listingRow(unmatched)).toEqual({ state: 'unmatched', dirty_seq: 3 });
    expect(await listingRow(other)).toEqual({ state: 'in_sync', dirty_seq: 3 });
    expect(await queuedPushes()).toEqual([ch]);
  });

  it('a platform setting, or the same value again, marks nothing; null removes a setting', async () => {
    const ch = await channel({ location_ids: [loc], cap: 10 });
    const a = await listing(ch, itemIds[0]!);
    await t.db.query(`delete from job_outbox`);
    await tx((q) => channels.update(q, scope, sealer, ch, { settings: { request_timeout_ms: 2000, cap: 10 } }));
    expect(await listingRow(a)).toEqual({ state: 'in_sync', dirty_seq: 3 });
    expect(await queuedPushes()).toEqual([]);

    const out = await tx((q) => channels.update(q, scope, sealer, ch, { settings: { cap: null } }));
    expect(out.settings).toEqual({ location_ids: [loc], request_timeout_ms: 2000 });
    expect(await listingRow(a)).toEqual({ state: 'pending', dirty_seq: 4 });
    expect(await queuedPushes()).toEqual([ch]);
  });

  it('a paused channel takes the change and is not pushed to', async () => {
    const ch = await channel();
    const a = await listing(ch, itemIds[0]!);
    await tx((q) => channels.pause(q, scope, sealer, ch));
    await t.db.query(`delete from job_outbox`);
    await tx((q) => channels.update(q, scope, sealer, ch, { settings: { default_buffer: 5 } }));
    expect(await listingRow(a)).toEqual({ state: 'in_sync', dirty_seq: 3 });
    expect(await queuedPushes()).toEqual([]);
  });

  it("refuses what the channel type's module does not declare, naming the field, and changes nothing", async () => {
    const ch = await channel();
    const before = (await channels.get(t.db, scope, sealer, ch)).updated_at;
    const unknown = await refusal(tx((q) => channels.update(q, scope, sealer, ch, { settings: { no_such_setting: 1 } })));
    expect([unknown.status, unknown.code]).toEqual([400, 'validation_failed']);
    expect(unknown.details).toEqual([expect.objectContaining({ path: 'settings' })]);
    const bad = await refusal(tx((q) => channels.update(q, scope, sealer, ch, { settings: { request_timeout_ms: 1 } })));
    expect(bad.details).toEqual([expect.objectContaining({ path: 'settings.request_timeout_ms' })]);
    const partial = await refusal(tx((q) => channels.update(q, scope, sealer, ch, { name: 'Renamed', credentials: {} })));
    expect((partial.details as Array<{ path: string }>).every((d) => d.path.startsWith('credentials.'))).toBe(true);
    const foreign = await refusal(tx((q) => channels.update(q, scope, sealer, ch, { settings: { location_ids: [newId('loc')] } })));
    expect([foreign.status, foreign.code]).toEqual([404, 'not_found']);
    const after = await channels.get(t.db, scope, sealer, ch);
    expect(after).toMatchObject({ name: 'Shop', settings: { location_ids: [loc] }, updated_at: before });
  });
});

describe('sync now', () => {
  it('a channel: marks every matched listing, queues one push, and says how many', async () => {
    const ch = await channel();
    await listing(ch, itemIds[0]!);
    await listing(ch, itemIds[1]!);
    await listing(ch, null, 'unmatched');
    await t.db.query(`delete from job_outbox`);
    expect(await tx((q) => channels.syncNow(q, scope, ch))).toEqual({ queued: true, listings: 2 });
    expect(await queuedPushes()).toEqual([ch]);
    await tx((q) => channels.pause(q, scope, sealer, ch));
    expect((await refusal(tx((q) => channels.syncNow(q, scope, ch)))).code).toBe('conflict');
  });

  it('a listing: only a mapped one on a connected channel', async () => {
    const ch = await channel();
    const a = await listing(ch, itemIds[0]!);
    const unmatched = await listing(ch, null, 'unmatched');
    await t.db.query(`delete from job_outbox`);
    expect(await tx((q) => listings.syncNow(q, scope, a))).toEqual({ queued: true });
    expect(await listingRow(a)).toEqual({ state: 'pending', dirty_seq: 4 });
    expect(await queuedPushes()).toEqual([ch]);
    expect((await refusal(tx((q) => listings.syncNow(q, scope, unmatched)))).code).toBe('conflict');
    expect((await refusal(tx((q) => listings.syncNow(q, scope, newId('lst'))))).code).toBe('not_found');
  });
});

describe('channels.create', () => {
  it('fills in the module’s default host and shows only which credentials are set', async () => {
    const withDefault = CHANNEL_TYPES.find((type) => CHANNELS[type].defaultBaseUrl !== null)!;
    const creds = Object.fromEntries(credentialFields(CHANNELS[withDefault]).map((f) => [f.name, 'v']));
    const c = await tx((q) => channels.create(q, scope, sealer, { type: withDefault, name: 'Default host', credentials: creds }));
    expect(c.base_url).toBe(CHANNELS[withDefault].defaultBaseUrl);
    expect(c.credentials).toEqual(Object.fromEntries(Object.keys(creds).map((k) => [k, true])));
    expect(c).not.toHaveProperty('credentials_enc');
    const withoutDefault = CHANNEL_TYPES.find((type) => CHANNELS[type].defaultBaseUrl === null);
    if (withoutDefault) {
      const err = await refusal(tx((q) => channels.create(q, scope, sealer, { type: withoutDefault, name: 'No host', credentials: {} })));
      expect(err.details).toEqual([expect.objectContaining({ path: 'base_url' })]);
    }
  });
});
