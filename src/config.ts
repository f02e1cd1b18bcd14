// Configuration from the environment, read once. Defaults run everything on one machine with an
// embedded Postgres in DATA_DIR; DATABASE_URL switches to an external one.
import path from 'node:path';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | null;
  /** base64 32-byte key for channel credentials; generated into DATA_DIR when absent. */
  encryptionKey: string | null;
  jwtSecret: string | null;
  logLevel: string;
  workerConcurrency: number;
  /** Seconds between Guardian runs for new tenants (each tenant can change its own). */
  guardianIntervalS: number;
  /** A worker silent this long is taken for dead and its locked jobs are run again elsewhere. */
  workerDeadAfterS: number;
  /** Days of history kept: sync events, applied inbound events, settled webhook deliveries. */
  retentionDays: number;
  demo: boolean;
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
    encryptionKey: env.ENCRYPTION_KEY || null,
    jwtSecret: env.JWT_SECRET || null,
    logLevel: env.LOG_LEVEL ?? 'info',
    workerConcurrency: int(env.WORKER_CONCURRENCY, 8),
    guardianIntervalS: int(env.GUARDIAN_INTERVAL_S, 900),
    workerDeadAfterS: int(env.WORKER_DEAD_AFTER_S, 15),
    retentionDays: Math.max(1, int(env.RETENTION_DAYS, 30)),
    demo: env.DEMO !== '0',
  };
}
