// `stockclerk guardian` (issue 16, point 5): a process whose workers run only the Guardian's jobs.
// Here the harness's workers run with WORKER_GUARDIAN=0, so a Guardian run waits until a
// `stockclerk guardian` process (the real CLI, a process of its own) takes it and repairs the drift.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { guardianJob } from '../../src/db/job-specs.ts';
import { addJobs } from '../../src/db/jobs.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, quiescent } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
let guardian: ChildProcess | null = null;

beforeAll(async () => {
  h = await startHarness({ config: { workerGuardian: false } });
  emus = await startEmulators();
});
afterAll(async () => {
  if (guardian && guardian.exitCode === null) {
    const exited = new Promise((r) => guardian!.once('exit', r));
    guardian.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    guardian.kill('SIGKILL');
  }
  await emus?.close();
  await h?.stop();
});

const runs = async (tenantId: string) =>
  (await h.sc.ctx.db.query<{ repaired: number }>(`select repaired from guardian_runs where tenant_id = $1 and finished_at is not null`, [tenantId])).rows;

describe('stockclerk guardian', () => {
  it('runs the Guardian jobs that workers with WORKER_GUARDIAN=0 leave, and repairs drift', async () => {
    const t = await emulatedTenant(h, emus, { types: ['eposnow'], items: [{ sku: 'ROLE-1', name: 'Role', qty: 20 }] });
    await quiescent(h, emus);
    const till = t.channels.eposnow!;
    // Silent drift on the till (a hand edit; the till sends nothing for it).
    await fetch(`${emus.eposnow.url}/_control/accounts/${till.accountId}/set`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'ROLE-1', qty: 22 }),
    });
    await addJobs(h.sc.ctx.db, [guardianJob(t.tenantId)]);
    h.sc.ctx.jobs.nudgeRelay();
    // The harness's workers do not take it.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await runs(t.tenantId)).toEqual([]);
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: h.testDb.url, DATA_DIR: h.dataDir, LOG_LEVEL: 'silent', PORT: '0' };
    guardian = spawn(process.execPath, [path.resolve('bin/stockclerk.js'), 'guardian'], { env, stdio: 'ignore' });
    await eventually(async () => (await runs(t.tenantId)).length === 1, 30_000, 'the guardian process to run it');
    expect((await runs(t.tenantId))[0]!.repaired).toBe(1);
    // The repair is an ordinary push, which the harness's workers make.
    await eventually(() => held(emus, 'eposnow', till.accountId, 'ROLE-1')?.qty === 20, 10_000, 'the till repaired');
  }, 90_000);
});
