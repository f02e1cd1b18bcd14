// Configuration from the environment, read once. Defaults run everything on one machine with an
// embedded Postgres in DATA_DIR; DATABASE_URL switches to an external one.
import path from 'node:path';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | null;
  /**
   * A direct session to the same Postgres (DATABASE_DIRECT_URL). Setting it says DATABASE_URL is a
   * transaction-mode pooler (PgBouncer pool_mode = transaction): the pools then send no named
   * statements and no startup options there, and what needs a session of its own (LISTEN,
   * migrations' advisory lock, one-off CLI commands) connects here instead (src/db/pooler.ts).
   */
  databaseDirectUrl: string | null;
  /**
   * A streaming replica of DATABASE_URL (DATABASE_REPLICA_URL) that the dashboard's and reports'
   * read routes use while it is at most `replicaMaxLagMs` behind (src/db/replica.ts). Null: every
   * read on the primary.
   */
  replicaUrl: string | null;
  /** REPLICA_MAX_LAG_MS: the staleness past which those reads go back to the primary. */
  replicaMaxLagMs: number;
  /** base64 32-byte key for channel credentials; generated into DATA_DIR when absent. */
  encryptionKey: string | null;
  /** `id:base64, ...`: several credential keys; the first encrypts, all decrypt (src/db/crypto.ts). */
  encryptionKeys: string | null;
  jwtSecret: string | null;
  logLevel: string;
  workerConcurrency: number;
  /**
   * Whether this process's workers take the Guardian's jobs (WORKER_GUARDIAN, default yes). Set
   * WORKER_GUARDIAN=0 on `stockclerk worker`/`start` processes when `stockclerk guardian` processes
   * run them instead, so a tenant's long read-back never holds a slot Sync and the Watcher need.
   */
  workerGuardian: boolean;
  /** Seconds between Guardian runs for new tenants (each tenant can change its own). */
  guardianIntervalS: number;
  /** A worker silent this long is taken for dead and its locked jobs are run again elsewhere. */
  workerDeadAfterS: number;
  /** A job about a tenant that crashed this many times (a poison payload) quarantines the tenant (src/engine/quarantine.ts). */
  quarantineAfterCrashes: number;
  /** Days of history kept: sync events, applied inbound events, settled webhook deliveries. */
  retentionDays: number;
  demo: boolean;
  /**
   * Whom to believe about the client's address and scheme (X-Forwarded-For/-Proto): nobody unless
   * TRUST_PROXY says (`true`: any proxy; or the proxies' addresses/CIDRs, comma-separated).
   * Trusting everyone would let any client pick the IP the login throttle counts.
   */
  trustProxy: boolean | string;
  /** Origins whose browsers may call the API (CORS_ORIGINS, comma-separated); none by default. */
  corsOrigins: string[];
  /** When set, /metrics wants `Authorization: Bearer <it>`; unset, /metrics answers loopback callers only. */
  metricsToken: string | null;
  /** Login, sign-up and the other credential endpoints (src/http/auth-throttle.ts). */
  authThrottle: AuthThrottle;
  /** Enquiries from the public form one client IP may send per window (ENQUIRIES_PER_IP_PER_HOUR, default 5). */
  enquiryThrottle: { perIp: number; windowS: number };
  /**
   * Where mail goes (SMTP_URL, e.g. smtps://user:pass@smtp.example.com:465). Unset: `start` runs
   * an embedded mail catcher (MailDev) and sends there; `api` and `worker` send nothing.
   */
  smtpUrl: string | null;
  /** The From of every mail (MAIL_FROM). */
  mailFrom: string;
  /**
   * The address merchants reach the dashboard at (PUBLIC_URL), for links in mail. Unset: the
   * address this process listens on. Never taken from a request's Host header, which the client
   * chooses (a reset link pointing at an attacker's host would hand them the token).
   */
  publicUrl: string | null;
  /**
   * Stripe (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_STARTER / _GROWTH; STRIPE_API_BASE
   * for a Stripe-compatible endpoint). Without a key, `start` runs the Stripe emulator and `api` /
   * `worker` run without billing (plans still limit; nothing can be bought).
   */
  stripe: { secretKey: string | null; webhookSecret: string | null; apiBase: string | null; prices: { starter?: string; growth?: string } };
  /**
   * StockClerk's OAuth applications, by channel type: OAUTH_<TYPE>_CLIENT_ID, _CLIENT_SECRET,
   * _REDIRECT_URI (default: PUBLIC_URL/oauth/callback/<type>; eBay wants its RuName here), and for
   * a sandbox or an emulator _API_BASE and _AUTHORIZE_BASE. `start` registers apps on the
   * marketplace emulators it runs when none is configured.
   */
  oauthApps: Record<string, OAuthAppConfig>;
  /**
   * Seconds a lapsed plan keeps pushing before its pushes wait for payment. Merchants get days
   * (BILLING_GRACE_DAYS, 7); seconds are what the code and the SQL use, so a test can set a grace
   * that elapses while it watches.
   */
  billingGraceS: number;
}

export interface AuthThrottle {
  /** Failed logins of one email within the window before the next login is refused (429). */
  failuresPerEmail: number;
  /** Attempts from one IP address within the window (logins, sign-ups, refreshes of nothing). */
  attemptsPerIp: number;
  /** Reset mails one address may be sent within the window. */
  mailsPerEmail: number;
  windowS: number;
}

function trustProxy(v: string | undefined): boolean | string {
  if (v === undefined || v === '' || v === '0' || v === 'false') return false;
  return v === 'true' || v === '1' ? true : v;
}

function int(v: string | undefined, d: number): number {
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isInteger(n) ? n : d;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: int(env.PORT, 3000),
    host: env.HOST ?? '0.0.0.0',
    dataDir: path.resolve(env.DATA_DIR ?? './data'),
    databaseUrl: env.DATABASE_URL || null,
    databaseDirectUrl: env.DATABASE_DIRECT_URL || null,
    replicaUrl: env.DATABASE_REPLICA_URL || null,
    replicaMaxLagMs: Math.max(0, int(env.REPLICA_MAX_LAG_MS, 5000)),
    encryptionKey: env.ENCRYPTION_KEY || null,
    encryptionKeys: env.ENCRYPTION_KEYS || null,
    jwtSecret: env.JWT_SECRET || null,
    logLevel: env.LOG_LEVEL ?? 'info',
    workerConcurrency: int(env.WORKER_CONCURRENCY, 8),
    workerGuardian: env.WORKER_GUARDIAN !== '0',
    guardianIntervalS: int(env.GUARDIAN_INTERVAL_S, 900),
    workerDeadAfterS: int(env.WORKER_DEAD_AFTER_S, 5),
    quarantineAfterCrashes: Math.max(1, int(env.QUARANTINE_AFTER_CRASHES, 5)),
    retentionDays: Math.max(1, int(env.RETENTION_DAYS, 30)),
    demo: env.DEMO !== '0',
    trustProxy: trustProxy(env.TRUST_PROXY),
    metricsToken: env.METRICS_TOKEN || null,
    corsOrigins: (env.CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    authThrottle: {
      failuresPerEmail: Math.max(1, int(env.AUTH_FAILURES_PER_EMAIL, 10)),
      attemptsPerIp: Math.max(1, int(env.AUTH_ATTEMPTS_PER_IP, 100)),
      mailsPerEmail: 5,
      windowS: 15 * 60,
    },
    enquiryThrottle: { perIp: Math.max(1, int(env.ENQUIRIES_PER_IP_PER_HOUR, 5)), windowS: 3600 },
    smtpUrl: env.SMTP_URL || null,
    mailFrom: env.MAIL_FROM || 'StockClerk <no-reply@stockclerk.localhost>',
    publicUrl: env.PUBLIC_URL ? env.PUBLIC_URL.replace(/\/+$/, '') : null,
    stripe: {
      secretKey: env.STRIPE_SECRET_KEY || null,
      webhookSecret: env.STRIPE_WEBHOOK_SECRET || null,
      apiBase: env.STRIPE_API_BASE || null,
      prices: {
        ...(env.STRIPE_PRICE_STARTER ? { starter: env.STRIPE_PRICE_STARTER } : {}),
        ...(env.STRIPE_PRICE_GROWTH ? { growth: env.STRIPE_PRICE_GROWTH } : {}),
      },
    },
    billingGraceS: Math.max(0, int(env.BILLING_GRACE_DAYS, 7)) * 86_400,
    oauthApps: oauthApps(env),
  };
}

export interface OAuthAppConfig {
  clientId: string;
  clientSecret: string;
  redirectUri: string | null;
  apiBase: string | null;
  authorizeBase: string | null;
  /** The app-wide webhook key where the platform has one apart from the client secret (Wix's public key PEM): OAUTH_<TYPE>_WEBHOOK_KEY. */
  webhookKey?: string | null;
}

function oauthApps(env: NodeJS.ProcessEnv): Record<string, OAuthAppConfig> {
  const out: Record<string, OAuthAppConfig> = {};
  for (const [k, v] of Object.entries(env)) {
    const m = /^OAUTH_([A-Z0-9_]+)_CLIENT_ID$/.exec(k);
    if (!m || !v) continue;
    const p = `OAUTH_${m[1]}_`;
    out[m[1]!.toLowerCase()] = {
      clientId: v,
      clientSecret: env[`${p}CLIENT_SECRET`] ?? '',
      redirectUri: env[`${p}REDIRECT_URI`] || null,
      apiBase: env[`${p}API_BASE`] || null,
      authorizeBase: env[`${p}AUTHORIZE_BASE`] || null,
      webhookKey: env[`${p}WEBHOOK_KEY`]?.replaceAll('\\n', '\n') || null,
    };
  }
  return out;
}
