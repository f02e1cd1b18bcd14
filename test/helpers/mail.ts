// Reading mail the way a person would: from the catcher's inbox (MailDev's JSON API), waiting for
// it to arrive (mail leaves through a job, so it lands a moment after the request).
export interface CaughtMail {
  id: string;
  subject: string;
  text: string;
  html: string;
  to: Array<{ address: string }>;
  from: Array<{ address: string; name: string }>;
}

export async function inbox(mailApi: string, to: string): Promise<CaughtMail[]> {
  const all = (await (await fetch(mailApi)).json()) as CaughtMail[];
  return all.filter((m) => m.to.some((t) => t.address.toLowerCase() === to.toLowerCase()));
}

/** The newest mail to `to` whose subject matches, once it arrives (10 s at most). */
export async function waitForMail(mailApi: string, to: string, subject: RegExp, timeoutMs = 10_000): Promise<CaughtMail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = (await inbox(mailApi, to)).reverse().find((m) => subject.test(m.subject));
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${subject} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The link to `page` in a mail's text, and its token. */
export function linkIn(mail: CaughtMail, page: string): { url: URL; token: string } {
  const m = mail.text.match(new RegExp(`https?://\\S+/${page}\\?token=[^\\s]+`));
  if (!m) throw new Error(`no /${page} link in: ${mail.text}`);
  const url = new URL(m[0]);
  return { url, token: url.searchParams.get('token')! };
}

/** The mail as it arrived over SMTP, headers and all (MailDev's parsed form leaves some out, Reply-To among them). */
export async function rawSource(mailApi: string, mail: CaughtMail): Promise<string> {
  return (await fetch(`${mailApi}/${encodeURIComponent(mail.id)}/source`)).text();
}
