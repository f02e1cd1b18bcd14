// Migrations: drizzle's committed SQL (./drizzle) then graphile-worker's own schema, under an
// advisory lock so several processes starting together migrate once.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Logger, runMigrations } from 'graphile-worker';
import pg from 'pg';

const MIGRATIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');
const LOCK_ID = 0x5c_0c_1e_4b;

export async function migrateDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [LOCK_ID]);
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS });
    await runMigrations({ connectionString: url, logger: quietLogger });
  } finally {
    await client.query('select pg_advisory_unlock($1)', [LOCK_ID]).catch(() => {});
    await client.end();
  }
}

/** graphile-worker's own logging is replaced by our pino logs around each job. */
export const quietLogger = new Logger(() => () => {});
