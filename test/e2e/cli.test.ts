// The `stockclerk` command as a merchant's operator runs it, and the embedded database's crash recovery.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Sealer } from '../../src/db/crypto.ts';
import { startEmbedded } from '../../src/db/embedded.ts';
import { createItems, createTenant } from '../../src/db/tenants.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { createTestDb, type TestDb } from '../helpers/db.ts';

const run = promisify(execFile);
const CLI = path.resolve('bin/stockclerk.js');

describe('stockclerk verify', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
    const ten = await createTenant(t.db, { name: 'CLI Co' });
    const [item] = await createItems(t.db, ten.tenantId, [{ sku: 'X', name: 'X' }]);
    await recordMovements(t.db, ten.tenantId, [{ itemId: item!, locationId: ten.locationId, qtyDelta: 5, reason: 'receipt' }]);
  });
  afterAll(() => t.drop());

  it('exits 0 when every level equals its movements, 1 listing the mismatch otherwise', async () => {
    const env = { ...process.env, DATABASE_URL: t.url };
    const ok = await run(process.execPath, [CLI, 'verify'], { env });
    expect(ok.stdout).toMatch(/ledger verified: 1 levels/);
    await t.db.query(`update stock_levels set on_hand = 6`);
    const bad = await run(process.execPath, [CLI, 'verify'], { env }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(bad?.code).toBe(1);
    expect(bad?.stderr).toMatch(/on_hand 6, movements sum 5/);
  });
});

describe('stockclerk rotate-keys', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb();
  });
  afterAll(() => t.drop());

  it('re-seals with the first key of ENCRYPTION_KEYS, reports progress, and exits 1 while a value opens with no key', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const ten = await createTenant(t.db, { name: 'Keys CLI Co' });
    const sealed = new Sealer([{ id: 'old', key: Buffer.from(oldKey, 'base64') }]).seal({ api_key: 'k' });
    await t.db.query(
      `insert into channels (tenant_id, id, type, name, base_url, credentials_enc, settings) values ($1, 'ch_00000000000000000000000000000001', 'wix', 'W', 'http://127.0.0.1:1', $2, '{}')`,
      [ten.tenantId, sealed],
    );
    const rotate = (keys: string) =>
      run(process.execPath, [CLI, 'rotate-keys'], { env: { ...process.env, DATABASE_URL: t.url, ENCRYPTION_KEYS: keys } }).then(
        (r) => ({ code: 0, ...r }),
        (err: { code: number; stdout: string; stderr: string }) => err,
      );
    const missing = await rotate(`new:${newKey}`);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/0 value\(s\) re-sealed with key new; 1 unreadable/);
    const ok = await rotate(`new:${newKey},old:${oldKey}`);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/channels\.credentials_enc: 1\/1/);
    expect(ok.stdout).toMatch(/1 value\(s\) re-sealed with key new; 0 unreadable/);
    const { rows } = await t.db.query(`select credentials_enc from channels where tenant_id = $1`, [ten.tenantId]);
    expect(new Sealer([{ id: 'new', key: Buffer.from(newKey, 'base64') }]).open(rows[0].credentials_enc)).toEqual({ api_key: 'k' });
  });
});

describe('embedded PostgreSQL', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-crash-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts again after the process that owned it was killed with SIGKILL (stale postmaster.pid)', async () => {
    const script = `import { startEmbedded } from ${JSON.stringify(path.resolve('src/db/embedded.ts'))};
      await startEmbedded(${JSON.stringify(dir)}); console.log('up'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('up') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(fs.existsSync(path.join(dir, 'pg', 'postmaster.pid'))).toBe(true);
    const emb = await startEmbedded(dir);
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: emb.url });
    await c.connect();
    expect((await c.query('select 1 as one')).rows[0].one).toBe(1);
    await c.end();
    await emb.stop();
  }, 60_000);

  it('leaves alone a live process that is not PostgreSQL but has the PID a stale postmaster.pid names', async () => {
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(path.join(dir, 'pg', 'postmaster.pid'), `${bystander.pid}\n${dir}/pg\n0\n5432\n/tmp\n127.0.0.1\n0 0\nready\n`);
      const emb = await startEmbedded(dir);
      expect(bystander.exitCode).toBeNull();
      expect(bystander.signalCode).toBeNull();
      await emb.stop();
    } finally {
      bystander.kill('SIGKILL');
    }
  }, 60_000);

  it('a second user of a DATA_DIR whose PostgreSQL runs uses it, and its stop() leaves it running', async () => {
    // What a dead process left behind is taken over.
    fs.writeFileSync(path.join(dir, 'postgres.owner'), JSON.stringify({ pid: 2 ** 22 + 1, started: null, role: 'server', port: 1 }));
    const first = await startEmbedded(dir);
    expect(first.owned).toBe(true);
    const second = await startEmbedded(dir, () => {}, { role: 'cli' });
    expect(second.owned).toBe(false);
    expect(second.url).toBe(first.url);
    await second.stop();
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: first.url });
    await c.connect();
    expect((await c.query('select 1 as one')).rows[0].one).toBe(1);
    await c.end();
    await first.stop();
    expect(fs.existsSync(path.join(dir, 'postgres.owner'))).toBe(false);
  }, 60_000);
});
