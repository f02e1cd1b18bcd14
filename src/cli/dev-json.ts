// DATA_DIR/dev.json: where a running `npm start` can be reached, for scripts and tests outside
// the process (the acceptance checks read it): the API's URL, the mail catcher's JSON list and the Stripe emulator.
// Written atomically (rename) so a reader never sees half a file.
import fs from 'node:fs';
import path from 'node:path';
import type { devTenants } from '../demo/demo.ts';

export interface DevInfo {
  url: string;
  /** MailDev's JSON list of received messages; null when SMTP_URL sends mail elsewhere. */
  mail_api: string | null;
  mail_ui: string | null;
  /** The Stripe emulator's API base when `start` bills against it (STRIPE_SECRET_KEY unset). */
  stripe_api: string | null;
  /** The demo tenants: login, and per channel a ready sale request and a state URL (src/demo/demo.ts devTenants). */
  tenants: ReturnType<typeof devTenants>;
}

export function writeDevJson(dataDir: string, info: DevInfo): void {
  const file = path.join(dataDir, 'dev.json');
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(info, null, 2) + '\n');
  fs.renameSync(tmp, file);
}
