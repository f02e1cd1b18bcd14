// The development mail catcher `npm start` runs when SMTP_URL is unset: MailDev's SMTP server and
// web UI on loopback, keeping what it receives under DATA_DIR/mail. Merchants trying StockClerk
// locally read their invitations and reset links there; tests read them through its JSON API.
import fs from 'node:fs';
import path from 'node:path';
import { MailDev } from 'maildev';

export interface MailCatcher {
  smtpUrl: string;
  /** The web UI, for people. */
  webUrl: string;
  /** The JSON list of received messages (MailDev 3: each with subject, text, html, to[].address). */
  mailApi: string;
  stop(): Promise<void>;
}

/** Ports 0 take free ones. Binds 127.0.0.1 only: the catcher holds live reset links. */
export async function startMailCatcher(dir: string, ports: { smtp?: number; web?: number } = {}): Promise<MailCatcher> {
  fs.mkdirSync(dir, { recursive: true });
  const md = new MailDev({
    smtp: ports.smtp ?? 0,
    web: ports.web ?? 0,
    ip: '127.0.0.1',
    webIp: '127.0.0.1',
    mailDirectory: path.resolve(dir),
    // A long-running demo should not fill the disk; 500 is weeks of a person's testing.
    maxEmails: 500,
    silent: true,
  });
  const servers = await md.start();
  const webUrl = `http://127.0.0.1:${servers.api!.getPort()}`;
  return {
    smtpUrl: `smtp://127.0.0.1:${servers.smtp.getPort()}`,
    webUrl,
    mailApi: `${webUrl}/api/email`,
    stop: () => md.stop(),
  };
}
