// Mail leaves through the job queue: `queueMail` adds a `mail_send` job in the caller's
// transaction (an invitation and its mail commit together, or neither), sealed because a reset
// link is as good as a password for an hour; `mailSend` opens it and hands it to SMTP, and a
// failure is retried by the queue with backoff.
import { mailJob } from '../db/job-specs.ts';
import type { Sealer } from '../db/crypto.ts';
import { addJobs, type Queryable } from '../db/jobs.ts';
import type { AppContext } from '../engine/context.ts';
import type { MailMessage } from './mailer.ts';

export async function queueMail(tx: Queryable, sealer: Sealer, messages: MailMessage[]): Promise<void> {
  await addJobs(
    tx,
    messages.map((m) => mailJob(sealer.seal(m))),
  );
}

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

/** What a service needs to mail a link: the sealer for the job and the public address for the link. */
export interface MailContext {
  sealer: Sealer;
  publicUrl: string;
}

/** The mail context of a running process (the API always knows its public address once it listens). */
export const mailContext = (ctx: AppContext): MailContext => ({ sealer: ctx.sealer, publicUrl: ctx.site.publicUrl ?? `http://127.0.0.1:${ctx.config.port}` });
