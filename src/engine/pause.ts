// Pausing a tenant's sync without losing anything: its jobs stay queued and are skipped. Every job
// about a tenant carries flags (src/db/jobs.ts, TENANT_FLAGS_SQL); each worker asks graphile-worker
// to skip the flags of the tenants paused now:
// - `t:<tenant>` while an operator has paused it (the kill switch: none of its jobs is taken;
//   webhooks are still recorded by the API, so its sales wait as events and apply on resume);
// - `p:<tenant>` while its plan is lapsed past the grace period (pushes and Guardian runs wait;
//   sales keep moving the ledger).
// Resuming removes the flag: the waiting jobs run, coalesced, and catch up. The list is read at
// most once a second per worker (so a pause takes hold within about a second).
import { pushesPausedSql } from '../services/billing.ts';
import type { AppContext } from './context.ts';

const REFRESH_MS = 1_000;

export function pausedFlags(ctx: Pick<AppContext, 'db' | 'config' | 'log'>): () => Promise<string[] | null> {
  let cached: string[] | null = null;
  let at = 0;
  let reading: Promise<string[] | null> | null = null;
  return () => {
    if (Date.now() - at < REFRESH_MS) return Promise.resolve(cached);
    reading ??= ctx.db
      .query<{ flag: string }>(
        `select 't:' || t.id as flag from tenants t where t.sync_paused_at is not null
         union all
         select 'p:' || t.id from tenants t where ${pushesPausedSql('$1')}`,
        [ctx.config.billingGraceS],
      )
      .then(
        ({ rows }) => {
          cached = rows.length ? rows.map((r) => r.flag) : null;
          at = Date.now();
          return cached;
        },
        (err: unknown) => {
          // The database is away: keep skipping what was paused (the next read will tell).
          ctx.log.warn({ err }, 'reading paused tenants failed');
          return cached;
        },
      )
      .finally(() => (reading = null));
    return reading;
  };
}
