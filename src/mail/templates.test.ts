// The payment-failed mail names the grace period as merchants are given it (days), and stays
// readable for the short grace periods tests set; BILLING_GRACE_DAYS becomes the seconds the code uses.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { graceText, paymentFailedMail } from './templates.ts';

describe('grace period in words', () => {
  it('says days, hours, minutes or seconds', () => {
    expect(graceText(7 * 86_400)).toBe('7 days');
    expect(graceText(86_400)).toBe('1 day');
    expect(graceText(2 * 3_600)).toBe('2 hours');
    expect(graceText(120)).toBe('2 minutes');
    expect(graceText(10)).toBe('10 seconds');
  });

  it('the payment-failed mail says how long sync keeps running', () => {
    const m = paymentFailedMail({ to: 'o@example.com', publicUrl: 'https://app.example', tenantName: 'Deli', graceS: 7 * 86_400 });
    expect(m.text).toContain('Sync keeps running for 7 days.');
    expect(m.text).toContain('https://app.example/billing');
  });

  it('BILLING_GRACE_DAYS is read in days and held in seconds (default 7)', () => {
    expect(loadConfig({}).billingGraceS).toBe(7 * 86_400);
    expect(loadConfig({ BILLING_GRACE_DAYS: '2' }).billingGraceS).toBe(2 * 86_400);
    expect(loadConfig({ BILLING_GRACE_DAYS: '-1' }).billingGraceS).toBe(0);
  });
});
