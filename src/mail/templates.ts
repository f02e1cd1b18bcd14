// What StockClerk mails, as plain text and HTML: invitations, password resets, address
// verification, alerts and the daily alert digest. Every link is absolute, built from the public
// URL (src/config.ts: PUBLIC_URL), and the secret sits in its `token` query parameter. Values from
// people (a business name, an alert message) are escaped in the HTML.
import type { MailMessage } from './mailer.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A short mail: paragraphs, one button-like link, a closing line. The text body says the same. */
function compose(to: string, subject: string, paras: string[], action: { label: string; url: string } | null, footer: string): MailMessage {
  const text = [...paras, ...(action ? [`${action.label}: ${action.url}`] : []), '', footer].join('\n\n');
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2933;max-width:560px">
${paras.map((p) => `<p>${esc(p)}</p>`).join('\n')}
${action ? `<p><a href="${esc(action.url)}" style="display:inline-block;padding:10px 16px;background:#1d4ed8;color:#fff;border-radius:6px;text-decoration:none">${esc(action.label)}</a></p><p style="font-size:13px;color:#52606d">Or open this address: ${esc(action.url)}</p>` : ''}
<p style="font-size:13px;color:#52606d">${esc(footer)}</p>
</body></html>`;
  return { to, subject, text, html };
}

const link = (publicUrl: string, page: string, token: string) => `${publicUrl}/${page}?token=${encodeURIComponent(token)}`;

export function invitationMail(m: {
  to: string;
  publicUrl: string;
  token: string;
  tenantName: string;
  inviter: string | null;
  role: string;
  days: number;
}): MailMessage {
  const who = m.inviter ? `${m.inviter} invited you` : 'You are invited';
  return compose(
    m.to,
    `Invitation to join ${m.tenantName} on StockClerk`,
    [
      `${who} to join ${m.tenantName} on StockClerk as ${m.role === 'admin' ? 'an' : 'a'} ${m.role}.`,
      `Choose a password to accept. The link works once, for ${m.days} days.`,
    ],
    { label: 'Accept the invitation', url: link(m.publicUrl, 'accept-invitation', m.token) },
    'If you did not expect this invitation, ignore this mail: nothing happens unless the link is used.',
  );
}

export function passwordResetMail(m: { to: string; publicUrl: string; token: string; minutes: number }): MailMessage {
  return compose(
    m.to,
    'Reset your StockClerk password',
    [
      `Someone asked to reset the password of the StockClerk account of ${m.to}.`,
      `The link works once, for ${m.minutes} minutes. Setting a new password logs out every session of this account.`,
    ],
    { label: 'Choose a new password', url: link(m.publicUrl, 'reset-password', m.token) },
    'If it was not you, ignore this mail: your password stays as it is.',
  );
}

export function verificationMail(m: { to: string; publicUrl: string; token: string; days: number }): MailMessage {
  return compose(
    m.to,
    'Confirm your email address for StockClerk',
    ['Confirm this address to receive StockClerk alerts by email.', `The link works once, for ${m.days} days.`],
    { label: 'Confirm my address', url: link(m.publicUrl, 'verify-email', m.token) },
    'If you did not sign up for StockClerk, ignore this mail.',
  );
}

export interface AlertLine {
  severity: string;
  message: string;
  created_at: Date | string;
}

const settings = (publicUrl: string | null) =>
  publicUrl
    ? `Change which alerts you receive by email in StockClerk: ${publicUrl}/settings`
    : 'Change which alerts you receive by email in StockClerk, under Settings.';

export function alertMail(m: { to: string; publicUrl: string | null; tenantName: string; alert: AlertLine }): MailMessage {
  return compose(
    m.to,
    `[${m.tenantName}] ${m.alert.message}`,
    [`A ${m.alert.severity} alert was raised for ${m.tenantName}:`, m.alert.message],
    m.publicUrl ? { label: 'Open the alerts', url: `${m.publicUrl}/alerts` } : null,
    settings(m.publicUrl),
  );
}

export function digestMail(m: { to: string; publicUrl: string | null; tenantName: string; alerts: AlertLine[]; more: number }): MailMessage {
  const lines = m.alerts.map((a) => `${new Date(a.created_at).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${a.severity}: ${a.message}`);
  if (m.more > 0) lines.push(`... and ${m.more} more`);
  const n = m.alerts.length + m.more;
  return compose(
    m.to,
    `[${m.tenantName}] ${n} alert${n === 1 ? '' : 's'} in the last day`,
    [`Alerts raised for ${m.tenantName} since the last digest:`, ...lines],
    m.publicUrl ? { label: 'Open the alerts', url: `${m.publicUrl}/alerts` } : null,
    settings(m.publicUrl),
  );
}

/** A grace period in words: whole days as merchants are given it, smaller units as tests set it. */
export function graceText(s: number): string {
  const [n, unit] =
    s >= 86_400 ? [Math.round(s / 86_400), 'day'] : s >= 3_600 ? [Math.round(s / 3_600), 'hour'] : s >= 60 ? [Math.round(s / 60), 'minute'] : [s, 'second'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

export function paymentFailedMail(m: { to: string; publicUrl: string | null; tenantName: string; graceS: number }): MailMessage {
  return compose(
    m.to,
    `[${m.tenantName}] Your StockClerk payment failed`,
    [
      `The latest payment for ${m.tenantName}'s StockClerk plan did not go through.`,
      `Sync keeps running for ${graceText(m.graceS)}. After that StockClerk keeps recording your sales but stops updating your channels until the payment is made.`,
    ],
    m.publicUrl ? { label: 'Update your payment details', url: `${m.publicUrl}/billing` } : null,
    'Questions? Reply to this mail.',
  );
}

const billingLink = (publicUrl: string | null, label: string) => (publicUrl ? { label, url: `${publicUrl}/billing` } : null);
const day = (d: Date) => d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

export function trialEndingMail(m: { to: string; publicUrl: string | null; tenantName: string; trialEndsAt: Date }): MailMessage {
  return compose(
    m.to,
    `[${m.tenantName}] Your StockClerk trial ends on ${day(m.trialEndsAt)}`,
    [
      `${m.tenantName}'s free trial of StockClerk ends on ${day(m.trialEndsAt)}.`,
      'Choose a plan to keep your channels in sync: Starter (£50/month, 3 shops) or Growth (£100/month, 10 shops).',
    ],
    billingLink(m.publicUrl, 'Choose a plan'),
    'Questions? Reply to this mail.',
  );
}

export function trialEndedMail(m: { to: string; publicUrl: string | null; tenantName: string; graceEndsAt: Date }): MailMessage {
  return compose(
    m.to,
    `[${m.tenantName}] Your StockClerk trial has ended`,
    [
      `${m.tenantName}'s free trial of StockClerk has ended.`,
      `Sync keeps running until ${day(m.graceEndsAt)}. After that StockClerk keeps recording your sales but stops updating your channels until you choose a plan.`,
    ],
    billingLink(m.publicUrl, 'Choose a plan'),
    'Questions? Reply to this mail.',
  );
}

export function pushesPausedMail(m: { to: string; publicUrl: string | null; tenantName: string }): MailMessage {
  return compose(
    m.to,
    `[${m.tenantName}] StockClerk has stopped updating your channels`,
    [
      `${m.tenantName}'s StockClerk plan is unpaid, so StockClerk has stopped sending stock to your channels.`,
      'Sales on your channels are still recorded in your stock ledger: nothing is lost. As soon as the payment is made, every channel is brought up to date.',
    ],
    billingLink(m.publicUrl, 'Pay now'),
    'Questions? Reply to this mail.',
  );
}

export interface EnquiryLine {
  id: string;
  name: string;
  email: string;
  company: string;
  shops: number | null;
  message: string;
}

/** A new Enterprise enquiry, to one operator: a reply goes straight to the enquirer. */
export function enquiryMail(m: { to: string; publicUrl: string; enquiry: EnquiryLine }): MailMessage {
  const e = m.enquiry;
  return {
    ...compose(
      m.to,
      `Enterprise enquiry from ${e.company}`,
      [
        `${e.name} <${e.email}> of ${e.company} asked about StockClerk Enterprise${e.shops === null ? '' : ` for ${e.shops} shop${e.shops === 1 ? '' : 's'}`}:`,
        e.message,
        'Reply to this mail to answer them.',
      ],
      { label: 'Open the enquiries', url: `${m.publicUrl}/admin/enquiries` },
      `You receive this as a StockClerk operator. Enquiry ${e.id}.`,
    ),
    replyTo: e.email,
  };
}
