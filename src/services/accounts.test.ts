// Accounts below HTTP: one account per email whatever its case, a wrong email and a wrong password
// get the same refusal, and a shorter Guardian interval brings the next run forward (a longer one
// does not push it back).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { withTx } from '../db/pool.ts';
import { AppError } from '../domain/errors.ts';
import { getTenant, login, register, updateTenant, whoAmI } from './accounts.ts';
import type { Scope } from './scope.ts';

let t: TestDb;

beforeAll(async () => {
  t = await createTestDb();
});
afterAll(() => t?.drop());

const refused = (p: Promise<unknown>, status: number, code: string) =>
  expect(p).rejects.toSatisfy((e: unknown) => e instanceof AppError && e.status === status && e.code === code);

describe('accounts', () => {
  it('registers a tenant with its owner and first location; an email is taken whatever its case', async () => {
    const input = { businessName: 'Corner Shop', email: 'owner@corner.example', password: 'correct horse 1', guardianIntervalS: 900 };
    const a = await register(t.db, input);
    const me = await whoAmI(t.db, a.tenantId, a.userId);
    expect(me).toEqual({
      user: { id: a.userId, email: 'owner@corner.example', role: 'owner', email_verified: false, alert_email: 'each' },
      tenant: { id: a.tenantId, name: 'Corner Shop', guardian_interval_s: 900, drift_threshold: expect.any(Number) },
    });
    const loc = await t.db.query(`select id, name from locations where tenant_id = $1`, [a.tenantId]);
    expect(loc.rows).toEqual([{ id: a.locationId, name: 'Main' }]);
    await refused(register(t.db, { ...input, businessName: 'Copycat', email: 'Owner@Corner.EXAMPLE' }), 409, 'email_taken');
    // Two registrations racing for one address: the unique index decides, the loser gets 409 too.
    const race = await Promise.allSettled([0, 1, 2].map((i) => register(t.db, { ...input, email: 'race@corner.example', businessName: `Race ${i}` })));
    expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of race) if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 409, code: 'email_taken' });
  });

  it('logs in with the right password only, with one answer for a wrong email or password', async () => {
    const a = await register(t.db, { businessName: 'Login Co', email: 'me@login.example', password: 'pass-word-22', guardianIntervalS: 900 });
    expect(await login(t.db, 'me@login.example', 'pass-word-22')).toEqual({ tenantId: a.tenantId, userId: a.userId });
    expect(await login(t.db, 'ME@Login.example', 'pass-word-22')).toEqual({ tenantId: a.tenantId, userId: a.userId });
    await refused(login(t.db, 'me@login.example', 'pass-word-23'), 401, 'invalid_credentials');
    await refused(login(t.db, 'nobody@login.example', 'pass-word-22'), 401, 'invalid_credentials');
    await refused(whoAmI(t.db, a.tenantId, 'usr_00000000000000000000000000000001'), 401, 'unauthorized');
  });

  it('a shorter Guardian interval brings the next run forward; a longer one leaves it', async () => {
    const a = await register(t.db, { businessName: 'Guardian Co', email: 'g@guardian.example', password: 'pass-word-22', guardianIntervalS: 3600 });
    const scope: Scope = { tenantId: a.tenantId, actor: { type: 'user', id: a.userId }, requestId: null };
    const next = async () => new Date((await getTenant(t.db, scope)).guardian_next_at as string).getTime();
    const first = await next();
    const shorter = await withTx(t.db, (tx) => updateTenant(tx, scope, { guardian_interval_s: 300 }));
    expect(shorter.guardian_interval_s).toBe(300);
    const forward = await next();
    expect(forward).toBeLessThan(first);
    expect(forward).toBeLessThanOrEqual(Date.now() + 301_000);
    await withTx(t.db, (tx) => updateTenant(tx, scope, { guardian_interval_s: 86_400, name: 'Guardian Co 2' }));
    expect(await next()).toBe(forward);
    const audit = await t.db.query(`select changes from audit_log where tenant_id = $1 and action = 'tenant.updated' order by id`, [a.tenantId]);
    expect(audit.rows.map((r) => r.changes)).toEqual([{ guardian_interval_s: 300 }, { guardian_interval_s: 86_400, name: 'Guardian Co 2' }]);
  });
});
