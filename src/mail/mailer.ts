// Sending mail: nodemailer over SMTP (SMTP_URL). Nothing here decides what to send or to whom
// (src/mail/templates.ts renders, src/mail/outbox.ts queues): a mail leaves the process only from
// the `mail_send` job, so a slow or failing SMTP server never holds up a request, and a failed
// send is retried by the job queue.
import nodemailer, { type Transporter } from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Where a reply goes when it is not the From (an enquiry mailed to operators: the enquirer). */
  replyTo?: string;
}

export class Mailer {
  private readonly transport: Transporter | null;
  readonly from: string;

  constructor(smtpUrl: string | null, from: string) {
    this.from = from;
    this.transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : null;
  }

  /** False without SMTP_URL (an `api` or `worker` process run bare): mail is dropped, with a warning. */
  get configured(): boolean {
    return this.transport !== null;
  }

  async send(m: MailMessage): Promise<void> {
    if (!this.transport) throw new Error('SMTP_URL is not set');
    await this.transport.sendMail({ from: this.from, to: m.to, subject: m.subject, text: m.text, html: m.html, ...(m.replyTo ? { replyTo: m.replyTo } : {}) });
  }

  close(): void {
    this.transport?.close();
  }
}
