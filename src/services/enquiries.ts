// Enterprise enquiries from the public landing page's form, and the operators who answer them.
// Not a tenant's data (the visitor has no account): the table has no tenant_id and is read and
// written on the system path. An enquiry and the mails telling every operator about it commit in
// one transaction (invariant 3): a lead is never stored unannounced, nor announced unstored.
import { CHANNEL_TYPES, CHANNELS, PLANNED_CHANNELS } from '../channels/registry.ts';
import { withTx, type Db } from '../db/pool.ts';
import { notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { displayPrice, PLAN_CURRENCY, PLAN_NAMES, PLANS, TRIAL_DAYS } from '../domain/plans.ts';
import { queueMail, type MailContext } from '../mail/outbox.ts';
import { enquiryMail } from '../mail/templates.ts';
import { audit } from './audit-log.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

export const ENQUIRY_STATUSES = ['new', 'contacted', 'won', 'lost'] as const;
export type EnquiryStatus = (typeof ENQUIRY_STATUSES)[number];

export interface EnquiryInput {
  name: string;
  email: string;
  company: string;
  shops: number | null;
  message: string;
  /** The honeypot: a field the form hides from people, so only a bot fills it. */
  website: string;
}

export interface EnquiryView {
  id: string;
  name: string;
  email: string;
  company: string;
  shops: number | null;
  message: string;
  status: EnquiryStatus;
  note: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, name, email, company, shops, message, status, note, created_at, updated_at';

/**
 * Stores an enquiry and queues a mail to every operator (Reply-To the enquirer). Every super admin
 * is mailed, verified or not: operators are made on the command line by whoever runs the service
 * (`stockclerk admin create`), so their address is vouched for by that person, and a lead must not
 * wait on a confirmation link (the verification gate exists for alert mails to addresses merchants
 * type). With no operator yet the enquiry is still stored and shows in the console once there is one.
 *
 * A filled honeypot answers like a success (a fresh id) but stores and sends nothing, so a bot
 * cannot tell it was caught.
 */
export async function submitEnquiry(db: Db, mail: MailContext, input: EnquiryInput): Promise<{ id: string }> {
  const id = newId('enq');
  if (input.website.trim() !== '') return { id };
  await withTx(db, async (tx) => {
    await tx.query(`insert into enquiries (id, name, email, company, shops, message) values ($1, $2, $3, $4, $5, $6)`, [
      id,
      input.name,
      input.email,
      input.company,
      input.shops,
      input.message,
    ]);
    const { rows } = await tx.query<{ email: string }>(`select distinct lower(email) as email from users where is_super_admin order by 1`);
    const enquiry = { id, name: input.name, email: input.email, company: input.company, shops: input.shops, message: input.message };
    await queueMail(
      tx,
      mail.sealer,
      rows.map((r) => enquiryMail({ to: r.email, publicUrl: mail.publicUrl, enquiry })),
    );
  });
  return { id };
}

/** Enquiries newest first, optionally of one status: the operators' console list. */
export async function listEnquiries(q: Q, p: PageRequest & { status?: EnquiryStatus }) {
  const { rows } = await q.query<EnquiryView>(
    `select ${COLUMNS} from enquiries
     where ($1::text is null or status = $1) and ($2::text is null or id < $2)
     order by id desc limit $3`,
    [p.status ?? null, p.after, p.limit + 1],
  );
  return page(rows, p.limit, (r) => r.id);
}

/**
 * An operator moves an enquiry along (status) or notes what happened (note; null clears it).
 * Audited in the operator's own tenant's log: an enquiry belongs to no tenant.
 */
export async function updateEnquiry(tx: Q, operator: Scope, id: string, patch: { status?: EnquiryStatus; note?: string | null }): Promise<EnquiryView> {
  const { rows } = await tx.query<EnquiryView>(
    `update enquiries set
       status = coalesce($2, status),
       note = case when $3::boolean then $4 else note end,
       updated_at = now()
     where id = $1 returning ${COLUMNS}`,
    [id, patch.status ?? null, patch.note !== undefined, patch.note ?? null],
  );
  if (!rows[0]) throw notFound('Enquiry');
  await audit(tx, operator, 'enquiry.updated', { type: 'enquiry', id }, { ...patch });
  return rows[0];
}

/**
 * What the public landing page states, from the code that makes it true: each plan with its
 * shops and display price (src/domain/plans.ts, which billing uses), and the platforms, live ones
 * from the channel registry, the rest as coming.
 */
export function publicPricing() {
  return {
    currency: PLAN_CURRENCY,
    trial_days: TRIAL_DAYS,
    plans: PLAN_NAMES.map((name) => ({
      name,
      label: PLANS[name].label,
      shops: PLANS[name].shops,
      monthly_pence: PLANS[name].monthlyPence,
      price: displayPrice(name),
    })),
    platforms: [...CHANNEL_TYPES.map((t) => ({ label: CHANNELS[t].label, live: true })), ...PLANNED_CHANNELS.map((label) => ({ label, live: false }))],
  };
}
