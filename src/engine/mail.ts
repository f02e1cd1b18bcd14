// The mail jobs: sending one queued mail (mail_send, src/mail/outbox.ts queues it), and alert
// emails by each user's choice (src/services/alert-email.ts): `each` alert as it is raised (the
// alert_mail job raiseAlert adds in its statement, src/services/alerts.ts), a daily `digest` of
// what was raised since the last one (the periodic alert_digest job), or `off`. Only verified
// addresses get any. Each mail is its own mail_send job, so one bad address never holds back the
// others.
import type { AlertMailJob } from '../db/job-specs.ts';
import { withTx } from '../db/pool.ts';
import type { MailMessage } from '../mail/mailer.ts';
import { queueMail } from '../mail/outbox.ts';
import { alertMail as alertMessage, digestMail, type AlertLine } from '../mail/templates.ts';
import type { AppContext } from './context.ts';

export async function mailSend(ctx: AppContext, p: { sealed: string }): Promise<void> {
  const m = ctx.sealer.open<MailMessage>(p.sealed);
  if (!ctx.mailer.configured) {
    // A worker run without SMTP_URL: say so once per mail (never the body: it may hold a link).
    ctx.log.warn({ subject: m.subject }, 'mail not sent: SMTP_URL is not set');
    return;
  }
  await ctx.mailer.send(m);
  ctx.log.debug({ subject: m.subject }, 'mail sent');
}

/** The most alerts a digest lists; it counts the rest. */
const DIGEST_LINES = 50;

export async function alertMail(ctx: AppContext, p: AlertMailJob): Promise<void> {
  await withTx(ctx.db, async (tx) => {
    const { rows } = await tx.query<AlertLine & { tenant: string; email: string }>(
      `select a.severity, a.message, a.created_at, t.name as tenant, u.email
       from alerts a join tenants t on t.id = a.tenant_id
       join users u on u.tenant_id = a.tenant_id and u.alert_email = 'each' and u.email_verified_at is not null
       where a.tenant_id = $1 and a.id = $2`,
      [p.tenantId, p.alertId],
    );
    await queueMail(
      tx,
      ctx.sealer,
      rows.map((r) => alertMessage({ to: r.email, publicUrl: ctx.site.publicUrl, tenantName: r.tenant, alert: r })),
    );
  });
}

/** The digests that are due (a day after each user's last), for up to 200 users a run. */
export async function alertDigest(ctx: AppContext): Promise<void> {
  await withTx(ctx.db, async (tx) => {
    // Locked: two workers running this at once mail each digest once.
    const { rows: due } = await tx.query<{ tenant_id: string; id: string; email: string; since: Date; tenant: string }>(
      `select u.tenant_id, u.id, u.email, coalesce(u.digest_sent_at, now() - interval '1 day') as since, t.name as tenant
       from users u join tenants t on t.id = u.tenant_id
       where u.alert_email = 'digest' and u.email_verified_at is not null
         and (u.digest_sent_at is null or u.digest_sent_at <= now() - interval '1 day')
       order by u.digest_sent_at nulls first limit 200 for update of u skip locked`,
    );
    for (const u of due) {
      const { rows } = await tx.query<AlertLine & { total: number }>(
        `select severity, message, created_at, count(*) over ()::int as total from alerts
         where tenant_id = $1 and created_at > $2 order by created_at limit $3`,
        [u.tenant_id, u.since, DIGEST_LINES],
      );
      if (rows.length > 0) {
        await queueMail(tx, ctx.sealer, [
          digestMail({ to: u.email, publicUrl: ctx.site.publicUrl, tenantName: u.tenant, alerts: rows, more: rows[0]!.total - rows.length }),
        ]);
      }
      await tx.query(`update users set digest_sent_at = now() where tenant_id = $1 and id = $2`, [u.tenant_id, u.id]);
    }
  });
}
