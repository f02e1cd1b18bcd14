// The billing mails (issue 12): a trial about to end, a trial that ended (with the day pushes
// stop), and pushes stopped for want of payment, each mailed to the owners once per period, read
// from the real mail catcher; a paid tenant gets none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingNotices } from '../../src/engine/billing.ts';
import { inbox, waitForMail } from '../helpers/mail.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ mail: true, config: { publicUrl: 'https://app.stockclerk.example', billingGraceS: 7 * 86_400 } });
});
afterAll(async () => h?.stop());

const setTrial = (tenantId: string, interval: string) =>
  h.sc.ctx.db.query(`update tenants set trial_ends_at = now() + $2::interval where id = $1`, [tenantId, interval]);
const run = async () => {
  await billingNotices(h.sc.ctx);
  h.sc.ctx.jobs.nudgeRelay();
};
const settle = () => new Promise((r) => setTimeout(r, 1_500));

describe('billing notices', () => {
  it('mails a trial ending, a trial ended and pushes paused, each once, to the owners', async () => {
    const t = await registerTenant(h.url, 'Notice Shop');
    await setTrial(t.tenantId, '2 days');
    await run();
    const ending = await waitForMail(h.mailApi!, t.email, /trial ends on/);
    expect(ending.text).toContain('https://app.stockclerk.example/billing');
    await run(); // the same period: no second mail
    await settle();
    expect((await inbox(h.mailApi!, t.email)).filter((m) => /trial ends on/.test(m.subject))).toHaveLength(1);

    await setTrial(t.tenantId, '-1 hour');
    await run();
    const ended = await waitForMail(h.mailApi!, t.email, /trial has ended/);
    const graceEnd = new Date(Date.now() - 3_600_000 + 7 * 86_400_000).toLocaleDateString('en-GB', {
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    });
    expect(ended.text).toContain(`Sync keeps running until ${graceEnd}`);
    expect((await inbox(h.mailApi!, t.email)).filter((m) => /stopped updating/.test(m.subject))).toHaveLength(0);

    await setTrial(t.tenantId, '-8 days');
    await run();
    await waitForMail(h.mailApi!, t.email, /stopped updating your channels/);
    await run();
    await settle();
    const all = await inbox(h.mailApi!, t.email);
    expect(all.filter((m) => /stopped updating/.test(m.subject))).toHaveLength(1);
    expect(all.filter((m) => /trial has ended/.test(m.subject))).toHaveLength(1);
  });

  it('mails nobody on a paid plan', async () => {
    const t = await registerTenant(h.url, 'Paid Shop');
    await h.sc.ctx.db.query(`update tenants set plan = 'growth', billing_status = 'active', trial_ends_at = now() - interval '30 days' where id = $1`, [
      t.tenantId,
    ]);
    await run();
    await settle();
    expect((await inbox(h.mailApi!, t.email)).filter((m) => /trial|stopped updating/.test(m.subject))).toEqual([]);
  });
});
