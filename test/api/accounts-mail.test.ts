// Accounts by email (issue 11, point 4): verification at sign-up, invitations, password reset and
// change, and alert emails by preference. Mail goes over real SMTP to the MailDev catcher `npm
// start` runs and is read back through its API; every link is built from PUBLIC_URL, never from
// the request's Host header.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertDigest } from '../../src/engine/mail.ts';
import { raiseAlert } from '../../src/services/alerts.ts';
import { inbox, linkIn, waitForMail } from '../helpers/mail.ts';
import { api, eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { expectError } from './support.ts';

const PUBLIC = 'https://stock.example.test';
let h: Harness;
let mailApi: string;
beforeAll(async () => {
  h = await startHarness({ mail: true, config: { publicUrl: PUBLIC } });
  mailApi = h.mailApi!;
});
afterAll(async () => {
  await h?.stop();
});

const PASSWORD = 'correct-horse-9';
let seq = 0;
const address = (what: string) => `${what}-${Date.now()}-${++seq}@example.com`;
const post = (path: string, body: unknown, token?: string, headers?: Record<string, string>) => api(h.url, 'POST', `/api/v1${path}`, { body, token, headers });
const login = (email: string, password = PASSWORD) => post('/auth/login', { email, password });
const auditActions = async (tenantId: string) =>
  (await h.sc.ctx.db.query<{ action: string }>(`select action from audit_log where tenant_id = $1 order by created_at`, [tenantId])).rows.map((r) => r.action);

describe('email verification', () => {
  it('sign-up mails a link that verifies the address once', async () => {
    const t = await registerTenant(h.url, 'Verify Co');
    expect((await api(h.url, 'GET', '/api/v1/me', { token: t.token })).body.user).toMatchObject({ email_verified: false, alert_email: 'each' });
    const mail = await waitForMail(mailApi, t.email, /confirm your email/i);
    const { url, token } = linkIn(mail, 'verify-email');
    expect(url.origin).toBe(PUBLIC);
    expect(mail.html).toContain(url.toString().replace(/&/g, '&#38;'));
    expect((await post('/auth/verify-email', { token })).status).toBe(204);
    expect((await api(h.url, 'GET', '/api/v1/me', { token: t.token })).body.user.email_verified).toBe(true);
    expectError(await post('/auth/verify-email', { token }), 400, 'invalid_token');
    expectError(await post('/auth/verify-email/resend', undefined, t.token), 409, 'already_verified');
    expect(await auditActions(t.tenantId)).toContain('user.email_verified');
  });

  it('a resent link replaces the first one', async () => {
    const t = await registerTenant(h.url, 'Resend Co');
    const first = linkIn(await waitForMail(mailApi, t.email, /confirm/i), 'verify-email').token;
    expect((await post('/auth/verify-email/resend', undefined, t.token)).status).toBe(202);
    await eventually(async () => (await inbox(mailApi, t.email)).length === 2, 10_000, 'the second mail');
    const second = linkIn(await waitForMail(mailApi, t.email, /confirm/i), 'verify-email').token;
    expect(second).not.toBe(first);
    expectError(await post('/auth/verify-email', { token: first }), 400, 'invalid_token');
    expect((await post('/auth/verify-email', { token: second })).status).toBe(204);
  });

  it('refuses a malformed token with a structured 400', async () => {
    const r = await post('/auth/verify-email', { token: 'short' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
  });
});

describe('invitations', () => {
  it('an owner invites an editor by email; the link makes their user once, with that role', async () => {
    const t = await registerTenant(h.url, 'Invite Co');
    const who = address('editor');
    const inv = await post('/invitations', { email: who.toUpperCase(), role: 'editor' }, t.token);
    expect(inv.status).toBe(201);
    expect(inv.body).toMatchObject({ email: who, role: 'editor', status: 'pending' });
    const mail = await waitForMail(mailApi, who, /invitation to join Invite Co/i);
    expect(mail.text).toContain(t.email); // who invited
    const { url, token } = linkIn(mail, 'accept-invitation');
    expect(url.origin).toBe(PUBLIC);

    const acc = await post('/invitations/accept', { token, password: PASSWORD });
    expect(acc.status).toBe(200);
    expect(acc.body).toMatchObject({ token_type: 'Bearer', user: { email: who, role: 'editor' }, tenant: { id: t.tenantId } });
    const me = await api(h.url, 'GET', '/api/v1/me', { token: acc.body.access_token });
    expect(me.body.user).toMatchObject({ email: who, role: 'editor', email_verified: true });
    expect(me.body.tenant.id).toBe(t.tenantId);
    expect((await login(who)).status).toBe(200);

    expectError(await post('/invitations/accept', { token, password: PASSWORD }), 400, 'invalid_token');
    const pending = await api(h.url, 'GET', '/api/v1/invitations', { token: t.token });
    expect(pending.body.data).toEqual([]);
    const all = await api(h.url, 'GET', '/api/v1/invitations?status=all', { token: t.token });
    expect(all.body.data).toMatchObject([{ id: inv.body.id, status: 'accepted' }]);
    const actions = await auditActions(t.tenantId);
    expect(actions).toEqual(expect.arrayContaining(['invitation.created', 'invitation.accepted']));
  });

  it('inviting again replaces the link; withdrawing or expiry stops it', async () => {
    const t = await registerTenant(h.url, 'Reinvite Co');
    const who = address('viewer');
    await post('/invitations', { email: who, role: 'viewer' }, t.token);
    const first = linkIn(await waitForMail(mailApi, who, /invitation/i), 'accept-invitation').token;
    const again = await post('/invitations', { email: who, role: 'viewer' }, t.token);
    await eventually(async () => (await inbox(mailApi, who)).length === 2, 10_000, 'the second invitation');
    const second = linkIn(await waitForMail(mailApi, who, /invitation/i), 'accept-invitation').token;
    expectError(await post('/invitations/accept', { token: first, password: PASSWORD }), 400, 'invalid_token');

    expect((await api(h.url, 'DELETE', `/api/v1/invitations/${again.body.id}`, { token: t.token })).status).toBe(204);
    expectError(await post('/invitations/accept', { token: second, password: PASSWORD }), 400, 'invalid_token');
    expect((await login(who)).status).toBe(401);

    const third = await post('/invitations', { email: who, role: 'viewer' }, t.token);
    await eventually(async () => (await inbox(mailApi, who)).length === 3, 10_000, 'the third invitation');
    const token = linkIn(await waitForMail(mailApi, who, /invitation/i), 'accept-invitation').token;
    await h.sc.ctx.db.query(`update invitations set expires_at = now() - interval '1 second' where tenant_id = $1 and id = $2`, [t.tenantId, third.body.id]);
    expectError(await post('/invitations/accept', { token, password: PASSWORD }), 400, 'invalid_token');
    expect(await auditActions(t.tenantId)).toContain('invitation.revoked');
  });

  it('refuses an address that has an account, an owner invited by an admin, and a weak password', async () => {
    const t = await registerTenant(h.url, 'Refuse Co');
    const other = await registerTenant(h.url, 'Other Co');
    expectError(await post('/invitations', { email: other.email, role: 'viewer' }, t.token), 409, 'email_taken');

    const adminEmail = address('admin');
    await post('/invitations', { email: adminEmail, role: 'admin' }, t.token);
    const token = linkIn(await waitForMail(mailApi, adminEmail, /invitation/i), 'accept-invitation').token;
    const weak = await post('/invitations/accept', { token, password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.error.code).toBe('validation_failed');
    const admin = await post('/invitations/accept', { token, password: PASSWORD });
    expect(admin.status).toBe(200);
    expectError(await post('/invitations', { email: address('owner'), role: 'owner' }, admin.body.access_token), 403, 'forbidden');
    expect((await post('/invitations', { email: address('ed'), role: 'editor' }, admin.body.access_token)).status).toBe(201);
  });

  it("does not show or withdraw another tenant's invitations", async () => {
    const a = await registerTenant(h.url, 'Tenant A');
    const b = await registerTenant(h.url, 'Tenant B');
    const inv = await post('/invitations', { email: address('x'), role: 'viewer' }, a.token);
    expect((await api(h.url, 'GET', '/api/v1/invitations', { token: b.token })).body.data).toEqual([]);
    expectError(await api(h.url, 'DELETE', `/api/v1/invitations/${inv.body.id}`, { token: b.token }), 404, 'not_found');
    expect((await api(h.url, 'GET', '/api/v1/invitations', { token: a.token })).body.data).toHaveLength(1);
  });
});

describe('password reset', () => {
  it('answers 202 for any address and mails only real ones', async () => {
    const ghost = address('nobody');
    expect((await post('/auth/password-reset', { email: ghost })).status).toBe(202);
    const t = await registerTenant(h.url, 'Reset Co');
    expect((await post('/auth/password-reset', { email: t.email })).status).toBe(202);
    await waitForMail(mailApi, t.email, /reset your/i);
    expect(await inbox(mailApi, ghost)).toEqual([]);
  });

  it('sets the new password once, ends every session, and ignores the Host header', async () => {
    const t = await registerTenant(h.url, 'Reset Sessions Co');
    const s1 = await login(t.email);
    const s2 = await login(t.email);
    const r = await post('/auth/password-reset', { email: t.email }, undefined, { host: 'evil.example' });
    expect(r.status).toBe(202);
    const { url, token } = linkIn(await waitForMail(mailApi, t.email, /reset your/i), 'reset-password');
    expect(url.origin).toBe(PUBLIC);

    expect((await post('/auth/password-reset/confirm', { token, password: 'a-new-password-1' })).status).toBe(204);
    for (const s of [s1, s2]) {
      expectError(await post('/auth/refresh', { refresh_token: s.body.refresh_token }), 401, 'invalid_refresh_token');
      expect((await api(h.url, 'GET', '/api/v1/me', { token: s.body.access_token })).status).toBe(401);
    }
    expect((await login(t.email)).status).toBe(401);
    expect((await login(t.email, 'a-new-password-1')).status).toBe(200);
    expectError(await post('/auth/password-reset/confirm', { token, password: 'another-password-2' }), 400, 'invalid_token');
    expect(await auditActions(t.tenantId)).toEqual(expect.arrayContaining(['user.password_reset_requested', 'user.password_reset']));
  });

  it('only the newest link works, and none after an hour', async () => {
    const t = await registerTenant(h.url, 'Reset Links Co');
    await post('/auth/password-reset', { email: t.email });
    const first = linkIn(await waitForMail(mailApi, t.email, /reset your/i), 'reset-password').token;
    await post('/auth/password-reset', { email: t.email });
    await eventually(async () => (await inbox(mailApi, t.email)).filter((m) => /reset/i.test(m.subject)).length === 2, 10_000, 'second reset');
    const second = linkIn(await waitForMail(mailApi, t.email, /reset your/i), 'reset-password').token;
    expectError(await post('/auth/password-reset/confirm', { token: first, password: 'a-new-password-1' }), 400, 'invalid_token');
    await h.sc.ctx.db.query(`update user_tokens set expires_at = now() - interval '1 second' where tenant_id = $1 and purpose = 'password_reset'`, [
      t.tenantId,
    ]);
    expectError(await post('/auth/password-reset/confirm', { token: second, password: 'a-new-password-1' }), 400, 'invalid_token');
    expect((await login(t.email)).status).toBe(200);
  });

  it('limits the mails one address can be sent', async () => {
    const t = await registerTenant(h.url, 'Flood Co');
    const limit = h.sc.ctx.config.authThrottle.mailsPerEmail;
    for (let i = 0; i < limit; i++) expect((await post('/auth/password-reset', { email: t.email })).status).toBe(202);
    const r = await post('/auth/password-reset', { email: t.email });
    expectError(r, 429, 'too_many_attempts');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('password change', () => {
  it('wants the current password and ends the other sessions, keeping this one', async () => {
    const t = await registerTenant(h.url, 'Change Co');
    const here = await login(t.email);
    const there = await login(t.email);
    expectError(
      await post('/me/password', { current_password: 'wrong-one-1', new_password: 'brand-new-pass-3' }, here.body.access_token),
      400,
      'wrong_password',
    );
    expect((await post('/me/password', { current_password: PASSWORD, new_password: 'brand-new-pass-3' }, here.body.access_token)).status).toBe(204);
    expectError(await post('/auth/refresh', { refresh_token: there.body.refresh_token }), 401, 'invalid_refresh_token');
    expect((await post('/auth/refresh', { refresh_token: here.body.refresh_token })).status).toBe(200);
    expect((await login(t.email, 'brand-new-pass-3')).status).toBe(200);
    expect(await auditActions(t.tenantId)).toContain('user.password_changed');
  });
});

describe('alert emails', () => {
  async function verifiedTenant(name: string) {
    const t = await registerTenant(h.url, name);
    const { token } = linkIn(await waitForMail(mailApi, t.email, /confirm/i), 'verify-email');
    expect((await post('/auth/verify-email', { token })).status).toBe(204);
    return t;
  }
  const raise = (tenantId: string, subject: string, message: string) =>
    raiseAlert(h.sc.ctx.db, tenantId, { type: 'out_of_stock', subject, message, severity: 'critical' });

  it('mails each alert to verified users who want each, and no one else', async () => {
    const t = await verifiedTenant('Alert Each Co');
    const unverified = await registerTenant(h.url, 'Alert Unverified Co');
    expect(await raise(t.tenantId, 'item_a', 'Oat milk is out of stock')).toBe(true);
    expect(await raise(unverified.tenantId, 'item_b', 'Rye bread is out of stock')).toBe(true);
    const mail = await waitForMail(mailApi, t.email, /Oat milk is out of stock/);
    expect(mail.subject).toContain('[Alert Each Co]');
    expect(mail.text).toContain(`${PUBLIC}/alerts`);
    // Raising an open alert again is the same alert: no second mail.
    expect(await raise(t.tenantId, 'item_a', 'Oat milk is out of stock')).toBe(false);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await inbox(mailApi, t.email)).filter((m) => /Oat milk/.test(m.subject))).toHaveLength(1);
    expect((await inbox(mailApi, unverified.email)).filter((m) => /Rye/.test(m.subject))).toEqual([]);
  });

  it('a user who chose off gets none; the digest collects a day of alerts into one mail', async () => {
    const off = await verifiedTenant('Alert Off Co');
    const pref = await api(h.url, 'PATCH', '/api/v1/me', { token: off.token, body: { alert_email: 'off' } });
    expect(pref.status).toBe(200);
    expect(pref.body.user.alert_email).toBe('off');
    await raise(off.tenantId, 'item_c', 'Flour is out of stock');

    const d = await verifiedTenant('Alert Digest Co');
    expect((await api(h.url, 'PATCH', '/api/v1/me', { token: d.token, body: { alert_email: 'digest' } })).status).toBe(200);
    await raise(d.tenantId, 'item_d', 'Butter is out of stock');
    await raise(d.tenantId, 'item_e', 'Eggs are out of stock');
    // Not due yet: the digest's day started when the user chose it.
    await alertDigest(h.sc.ctx);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await inbox(mailApi, d.email)).filter((m) => /alerts? in the last day/.test(m.subject))).toEqual([]);
    // A day later it is due and lists both.
    await h.sc.ctx.db.query(`update users set digest_sent_at = digest_sent_at - interval '1 day 1 minute' where tenant_id = $1`, [d.tenantId]);
    await h.sc.ctx.db.query(`update alerts set created_at = created_at - interval '1 minute' where tenant_id = $1`, [d.tenantId]);
    await alertDigest(h.sc.ctx);
    const digest = await waitForMail(mailApi, d.email, /2 alerts in the last day/);
    expect(digest.text).toContain('Butter is out of stock');
    expect(digest.text).toContain('Eggs are out of stock');
    expect((await inbox(mailApi, d.email)).filter((m) => /Butter/.test(m.subject))).toEqual([]);
    expect((await inbox(mailApi, off.email)).filter((m) => /Flour/.test(m.subject))).toEqual([]);
    // Sent: the next one waits another day.
    await raise(d.tenantId, 'item_f', 'Jam is out of stock');
    await alertDigest(h.sc.ctx);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await inbox(mailApi, d.email)).filter((m) => /in the last day/.test(m.subject))).toHaveLength(1);
  });

  it('refuses an unknown preference with a structured 400', async () => {
    const t = await registerTenant(h.url, 'Pref Co');
    const r = await api(h.url, 'PATCH', '/api/v1/me', { token: t.token, body: { alert_email: 'hourly' } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_failed');
  });
});
