// Credential key rotation (issue 11, point 6): with ENCRYPTION_KEYS = new, old, every stored
// secret is re-sealed with the new key; afterwards the old key can go and everything still opens.
// Values from before keys had ids (v1) rotate too; a run stopped half way is run again.
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ServiceFixture } from '../../test/helpers/service-fixture.ts';
import { CHANNEL_TYPES, CHANNELS, credentialFields } from '../channels/registry.ts';
import { parseKeyring, Sealer } from '../db/crypto.ts';
import { withTx } from '../db/pool.ts';
import * as channels from './channels.ts';
import { rotateKeys, SEALED_COLUMNS } from './key-rotation.ts';

const f = new ServiceFixture('Keys Co');
const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const TYPE = CHANNEL_TYPES[0]!;
const CREDENTIALS = Object.fromEntries(credentialFields(CHANNELS[TYPE]).map((c) => [c.name, `${c.name}-secret`]));

/** A value as StockClerk sealed it before keys had ids. */
function legacySeal(key: Buffer, plain: unknown): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(JSON.stringify(plain), 'utf8'), c.final()]);
  return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

async function storedValues(): Promise<string[]> {
  const out: string[] = [];
  for (const c of SEALED_COLUMNS) {
    const { rows } = await f.t.db.query<{ v: string }>(`select ${c.column} as v from ${c.table} where ${c.column} is not null and tenant_id = $1`, [
      f.scope.tenantId,
    ]);
    out.push(...rows.map((r) => (c.prefix && r.v.startsWith(c.prefix) ? r.v.slice(c.prefix.length) : r.v)).filter((v) => /^v\d\./.test(v)));
  }
  return out;
}

describe('rotate-keys', () => {
  it('re-seals every secret with the new key; the old key can then go', async () => {
    const before = new Sealer([{ id: 'old', key: oldKey }]);
    // A secret of every kind, sealed with the old key: channel credentials (two channels, one in
    // the old v1 format), a webhook endpoint's secret and its previous one, an idempotent answer.
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await withTx(f.t.db, (tx) =>
        channels.create(tx, f.scope, before, { type: TYPE, name: `Shop ${i}`, base_url: 'http://127.0.0.1:1', credentials: CREDENTIALS, settings: {} }),
      );
      ids.push(c.id as string);
    }
    await f.t.db.query(`update channels set credentials_enc = $3 where tenant_id = $1 and id = $2`, [
      f.scope.tenantId,
      ids[1],
      legacySeal(oldKey, CREDENTIALS),
    ]);
    await f.t.db.query(
      `insert into webhook_endpoints (tenant_id, id, url, event_types, secret_sealed, previous_secret_sealed, previous_secret_expires_at)
       values ($1, 'whe_00000000000000000000000000000001', 'https://hooks.example.com/x', '{*}', $2, $3, now() + interval '1 hour')`,
      [f.scope.tenantId, before.seal({ secret: 'whsec_new' }), before.seal({ secret: 'whsec_old' })],
    );
    await f.t.db.query(
      `insert into idempotency_keys (tenant_id, actor_id, key, request_hash, status, response_status, response_body, expires_at)
       values ($1, 'usr_x', 'k-1', 'h', 'done', 201, $2, now() + interval '1 day')`,
      [f.scope.tenantId, 'sealed:' + before.seal({ key: 'sck_secret' })],
    );
    expect(await storedValues()).toHaveLength(5);

    // The new key first, the old one still there: everything opens, new values use the new key.
    const both = new Sealer(parseKeyring(`new:${newKey.toString('base64')},old:${oldKey.toString('base64')}`));
    const seen: number[] = [];
    const done = await rotateKeys(f.t.db, both, { batch: 1, progress: (p) => seen.push(p.resealed) });
    expect(done.map((p) => [p.table, p.column, p.resealed, p.unreadable])).toEqual([
      ['channels', 'credentials_enc', 2, 0],
      ['webhook_endpoints', 'secret_sealed', 1, 0],
      ['webhook_endpoints', 'previous_secret_sealed', 1, 0],
      ['idempotency_keys', 'response_body', 1, 0],
    ]);
    expect(seen.length).toBe(5); // a report per batch (of one)
    const values = await storedValues();
    expect(values.every((v) => v.startsWith('v2.new.'))).toBe(true);

    // The old key gone: every secret still opens, and says what it said.
    const onlyNew = new Sealer([{ id: 'new', key: newKey }]);
    const creds = await f.t.db.query<{ credentials_enc: string }>(`select credentials_enc from channels where tenant_id = $1 order by id`, [f.scope.tenantId]);
    for (const r of creds.rows) expect(onlyNew.open(r.credentials_enc)).toEqual(CREDENTIALS);
    const ep = (await f.t.db.query(`select secret_sealed, previous_secret_sealed from webhook_endpoints where tenant_id = $1`, [f.scope.tenantId])).rows[0];
    expect(onlyNew.open(ep.secret_sealed)).toEqual({ secret: 'whsec_new' });
    expect(onlyNew.open(ep.previous_secret_sealed)).toEqual({ secret: 'whsec_old' });
    const answer = (await f.t.db.query(`select response_body from idempotency_keys where tenant_id = $1`, [f.scope.tenantId])).rows[0];
    expect(onlyNew.open(answer.response_body.slice('sealed:'.length))).toEqual({ key: 'sck_secret' });
    // ... and the old key alone opens none of them any more.
    expect(() => before.open(creds.rows[0]!.credentials_enc)).toThrow(/not in the keyring/);

    // The tenant's audit log says its secrets moved to the new key (issue 11, point 8).
    const logged = await f.t.db.query(`select actor_type, changes from audit_log where tenant_id = $1 and action = 'credentials.key_rotated'`, [
      f.scope.tenantId,
    ]);
    expect(logged.rows).toMatchObject([{ actor_type: 'system', changes: { key_id: 'new', resealed: 5 } }]);

    // Again: nothing left to do (and nothing more to audit).
    expect((await rotateKeys(f.t.db, both)).reduce((n, p) => n + p.total, 0)).toBe(0);
    expect((await f.t.db.query(`select 1 from audit_log where tenant_id = $1 and action = 'credentials.key_rotated'`, [f.scope.tenantId])).rowCount).toBe(1);
  });

  it('a run stopped half way finishes when run again; a value no key opens is reported, not lost', async () => {
    const aKey = randomBytes(32);
    const a = new Sealer([{ id: 'a', key: aKey }]);
    const lost = new Sealer([{ id: 'lost', key: randomBytes(32) }]);
    for (let i = 0; i < 4; i++) {
      await withTx(f.t.db, (tx) =>
        channels.create(tx, f.scope, a, { type: TYPE, name: `Half ${i}`, base_url: 'http://127.0.0.1:1', credentials: CREDENTIALS, settings: {} }),
      );
    }
    const orphan = await withTx(f.t.db, (tx) =>
      channels.create(tx, f.scope, lost, { type: TYPE, name: 'Orphan', base_url: 'http://127.0.0.1:1', credentials: CREDENTIALS, settings: {} }),
    );
    const b = new Sealer([
      { id: 'b', key: randomBytes(32) },
      { id: 'a', key: aKey },
      { id: 'new', key: newKey },
    ]);
    let batches = 0;
    await expect(
      rotateKeys(f.t.db, b, {
        batch: 2,
        progress: () => {
          if (++batches === 1) throw new Error('stopped');
        },
      }),
    ).rejects.toThrow('stopped');
    const again = await rotateKeys(f.t.db, b, { batch: 2 });
    const ch = again.find((p) => p.column === 'credentials_enc')!;
    expect(ch.unreadable).toBe(1);
    const { rows } = await f.t.db.query<{ id: string; credentials_enc: string }>(`select id, credentials_enc from channels where tenant_id = $1`, [
      f.scope.tenantId,
    ]);
    for (const r of rows) {
      if (r.id === orphan.id) expect(r.credentials_enc.startsWith('v2.lost.')).toBe(true);
      else expect(b.open(r.credentials_enc)).toEqual(CREDENTIALS);
    }
  });
});
