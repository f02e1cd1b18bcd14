// The `stockclerk` command: start | api | worker | guardian | migrate | verify | platform-key | admin create | rotate-keys.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPlatformKey } from '../db/api-keys.ts';
import { GUARDIAN_TASKS } from '../db/job-specs.ts';
import { loadConfig } from '../config.ts';
import { startEmbedded } from '../db/embedded.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { createPool } from '../db/pool.ts';
import { demoBanner, devTenants, ensureDemo, type DemoInfo } from '../demo/demo.ts';
import { verifyLedger } from '../ledger/ledger.ts';
import { createLogger } from '../log.ts';
import { rotateKeys } from '../services/key-rotation.ts';
import { makeSuperAdmin } from '../services/operators.ts';
import { loadKeyring, Sealer } from '../db/crypto.ts';
import { startStockClerk } from '../server.ts';
import { startMailCatcher } from '../mail/catcher.ts';
import { writeDevJson } from './dev-json.ts';
import { traceHooks } from '../obs/trace-hooks.ts';
import { startStripeEmulator, type StripeEmulator } from '../../emulators/stripe/index.ts';
import { randomBytes } from 'node:crypto';

const USAGE = `usage: stockclerk <command>
  start    API + workers + scheduler (+ the demo on the embedded database)
  api      API only          worker   workers + scheduler only
  guardian workers that run only the Guardian's jobs (+ scheduler); set WORKER_GUARDIAN=0 on
           the other workers so the Guardian's read-backs run here alone
  migrate  apply migrations  verify   recompute every level from the ledger; exit 1 on a mismatch
  platform-key --name N --tenants ten_a,ten_b [--scopes read,write]
           a key for an integrator acting on several tenants (printed once)
  admin create --email E [--password P]
           make E an operator of this StockClerk (super admin): promotes the user, or creates
           them (with P, at least 10 characters) in a tenant of operators
  rotate-keys
           re-seal every stored credential with the first key of ENCRYPTION_KEYS (progress on
           stderr; safe beside a running server; run it again if it stopped)`;

/**
 * The database of DATA_DIR for a one-off command: with a server running there, that server's
 * PostgreSQL (used, never stopped); else one started for the command and stopped after it. Behind
 * a transaction pooler, the direct URL: a command is one short session (and migrates under a
 * session lock), not the traffic a pooler is for.
 */
async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const url = config.databaseDirectUrl ?? config.databaseUrl;
  if (url) return fn(url);
  const emb = await startEmbedded(config.dataDir, (m) => console.error(m), { role: 'cli' });
  if (!emb.owned) console.error(`using the PostgreSQL of the StockClerk server running on ${config.dataDir} (pid ${emb.ownerPid})`);
  try {
    return await fn(emb.url);
  } finally {
    await emb.stop();
  }
}

async function serve(role: 'start' | 'api' | 'worker' | 'guardian'): Promise<void> {
  let config = loadConfig();
  const log = createLogger(config.logLevel);
  let demo: DemoInfo | null = null;
  // No SMTP server named: `start` catches its own mail, so invitations and resets work out of the box.
  const catcher = role === 'start' && !config.smtpUrl ? await startMailCatcher(path.join(config.dataDir, 'mail')) : null;
  if (catcher) config = { ...config, smtpUrl: catcher.smtpUrl };
  // No Stripe key: `start` bills against the Stripe emulator (state under DATA_DIR/stripe), so
  // checkout, the portal and the webhooks work out of the box. STRIPE_WEBHOOK_SECRET, when set,
  // is the secret the emulator signs with; otherwise one is made for this run.
  let stripeEmu: StripeEmulator | null = null;
  if (role === 'start' && !config.stripe.secretKey) {
    stripeEmu = await startStripeEmulator({ stateDir: path.join(config.dataDir, 'stripe') });
    const webhookSecret = config.stripe.webhookSecret ?? `whsec_${randomBytes(24).toString('hex')}`;
    config = { ...config, stripe: { ...config.stripe, secretKey: 'sk_test_emulator', webhookSecret, apiBase: stripeEmu.url } };
  }
  const sc = await startStockClerk(config, {
    api: role !== 'worker' && role !== 'guardian',
    worker: role !== 'api',
    // The guardian role: a worker process whose task list is the Guardian's (a tenant's read-back
    // and a marketplace's catalog check). Other workers still take these jobs unless they run
    // with WORKER_GUARDIAN=0; either way one run per tenant at a time (the job's queue).
    tasks: role === 'guardian' ? GUARDIAN_TASKS : undefined,
    relay: role === 'api',
    log,
    afterListen: async (s) => {
      if (role === 'start' && config.demo && s.url) {
        demo = await ensureDemo(s.ctx, s.url);
        process.stdout.write(demoBanner(s.url, demo));
      }
      if (catcher) process.stdout.write(`Mail (SMTP_URL unset, nothing leaves this machine): ${catcher.webUrl}\n`);
      if (stripeEmu && s.url) {
        stripeEmu.setWebhook({ url: `${s.url}/webhooks/stripe`, secret: config.stripe.webhookSecret! });
        process.stdout.write(`Stripe (STRIPE_SECRET_KEY unset, test mode against the emulator): ${stripeEmu.url}\n`);
      }
      if (role === 'start' && s.url)
        writeDevJson(config.dataDir, {
          url: s.url,
          mail_api: catcher?.mailApi ?? null,
          mail_ui: catcher?.webUrl ?? null,
          stripe_api: stripeEmu?.url ?? null,
          tenants: demo ? devTenants(demo) : [],
        });
    },
  });
  log.info({ url: sc.url, role }, 'StockClerk started');
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const d = demo as DemoInfo | null;
    await Promise.all([d?.emulators.close(), d?.vinted.close()]);
    await sc.stop();
    await stripeEmu?.close().catch(() => {});
    await catcher?.stop().catch(() => {});
    await traceHooks.shutdown().catch(() => {}); // the last spans, before exit drops them
    process.exit(0);
  };
  // Stop in order: emulators, HTTP, workers, PostgreSQL, then Stripe and the mail catcher.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void shutdown(sig));
}

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0] ?? 'start';
  switch (cmd) {
    case 'start':
    case 'api':
    case 'worker':
    case 'guardian':
      await serve(cmd);
      return -1; // keeps running
    case 'migrate':
      await withDatabase(migrateDatabase);
      console.log('migrations applied');
      return 0;
    case 'verify':
      return withDatabase(async (url) => {
        await migrateDatabase(url);
        const db = createPool(url, 2);
        try {
          const bad = await verifyLedger(db);
          const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from stock_levels`);
          if (bad.length === 0) {
            console.log(`ledger verified: ${rows[0]!.n} levels equal the sum of their movements`);
            return 0;
          }
          console.error(`ledger MISMATCH in ${bad.length} of ${rows[0]!.n} levels:`);
          for (const m of bad)
            console.error(`  tenant ${m.tenant_id} item ${m.item_id} location ${m.location_id}: on_hand ${m.on_hand}, movements sum ${m.movements_sum}`);
          return 1;
        } finally {
          await db.end();
        }
      });
    case 'platform-key':
      return withDatabase(async (url) => {
        const { values } = parseArgs({
          args: argv.slice(1),
          options: { name: { type: 'string' }, tenants: { type: 'string' }, scopes: { type: 'string', default: 'read,write' } },
        });
        const tenantIds = (values.tenants ?? '').split(',').filter(Boolean);
        const scopes = (values.scopes ?? '').split(',').filter(Boolean);
        if (!values.name || tenantIds.length === 0 || scopes.some((s) => !['read', 'write', 'admin'].includes(s))) {
          console.error(USAGE);
          return 2;
        }
        await migrateDatabase(url);
        const db = createPool(url, 2);
        try {
          const k = await createPlatformKey(db, { name: values.name, scopes, tenantIds });
          console.log(
            `platform key ${k.id} (${scopes.join(',')}) for ${tenantIds.length} tenant(s):\n${k.secret}\nSend it as Authorization: Bearer <key> with X-Tenant-ID: <tenant id>. It is not shown again.`,
          );
          return 0;
        } finally {
          await db.end();
        }
      });
    case 'admin': {
      const { values, positionals } = parseArgs({
        args: argv.slice(1),
        options: { email: { type: 'string' }, password: { type: 'string' } },
        allowPositionals: true,
      });
      if (positionals[0] !== 'create' || !values.email || (values.password !== undefined && values.password.length < 10)) {
        console.error(USAGE);
        return 2;
      }
      return withDatabase(async (url) => {
        await migrateDatabase(url);
        const db = createPool(url, 2);
        try {
          const r = await makeSuperAdmin(db, values.email!, values.password ?? null);
          console.log(`${values.email} is ${r.created ? 'a new' : 'now an'} operator (super admin): user ${r.userId}, tenant ${r.tenantId}`);
          return 0;
        } catch (err) {
          if (err instanceof Error && 'status' in err) {
            console.error(err.message);
            return 2;
          }
          throw err;
        } finally {
          await db.end();
        }
      });
    }
    case 'rotate-keys':
      return withDatabase(async (url) => {
        await migrateDatabase(url);
        const sealer = new Sealer(loadKeyring(loadConfig()));
        const db = createPool(url, 2);
        try {
          console.error(`re-sealing every stored credential with key ${sealer.currentKeyId}`);
          const done = await rotateKeys(db, sealer, {
            progress: (p) => console.error(`  ${p.table}.${p.column}: ${p.resealed + p.unreadable}/${p.total}`),
          });
          const resealed = done.reduce((n, p) => n + p.resealed, 0);
          const unreadable = done.reduce((n, p) => n + p.unreadable, 0);
          console.log(`${resealed} value(s) re-sealed with key ${sealer.currentKeyId}; ${unreadable} unreadable`);
          if (unreadable > 0) {
            console.error('some values open with no key of ENCRYPTION_KEYS: add the key they were sealed with, then run rotate-keys again');
            return 1;
          }
          return 0;
        } finally {
          await db.end();
        }
      });
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
