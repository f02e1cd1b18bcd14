// Mail leaves through the job queue: `queueMail` adds a `mail_send` job in the caller's
// transaction (an invitation and its mail commit together, or neither), sealed because a reset
// link is as good as a password for an hour; the job's handler (mailSend, src/engine/mail.ts)
// opens it and hands it to SMTP, and a failure is retried by the queue with backoff.
import { mailJob } from '../db/job-specs.ts';
import type { Sealer } from '../db/crypto.ts';
import { addJobs, type Queryable } from '../db/jobs.ts';
import type { MailMessage } from './mailer.ts';

export async function queueMail(tx: Queryable, sealer: Sealer, messages: MailMessage[]): Promise<void> {
  await addJobs(
    tx,
    messages.map((m) => mailJob(sealer.seal(m))),
  );
}

/** What a service needs to mail a link: the sealer for the job and the public address for the link. */
export interface MailContext {
  sealer: Sealer;
  publicUrl: string;
}
