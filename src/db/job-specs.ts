// Every job StockClerk enqueues, defined once: task, key (coalescing) and queue (ordering).
// The Watcher's apply job and the Sync's push job share the channel's queue so they never
// interleave on one channel's listings; the Guardian runs one at a time per tenant.
import type { JobSpec } from './jobs.ts';

export const CHANNEL_QUEUE_PREFIX = 'ch:';
export const PUSH_KEY_PREFIX = 'push:';
export const channelQueue = (channelId: string) => `${CHANNEL_QUEUE_PREFIX}${channelId}`;

/** Built in SQL by the ledger too (same task, key and queue): see APPLY_SQL in src/ledger/ledger.ts. */
export function pushJob(tenantId: string, channelId: string, runAt?: Date): JobSpec {
  return { task: 'sync_push', payload: { tenantId, channelId }, key: `${PUSH_KEY_PREFIX}${channelId}`, queue: channelQueue(channelId), runAt };
}

export function applyJob(tenantId: string, channelId: string): JobSpec {
  return { task: 'watcher_apply', payload: { tenantId, channelId }, key: `apply:${channelId}`, queue: channelQueue(channelId) };
}

export function pollJob(tenantId: string, channelId: string): JobSpec {
  return { task: 'watcher_poll', payload: { tenantId, channelId }, key: `poll:${channelId}`, queue: channelQueue(channelId) };
}

export function guardianJob(tenantId: string, runAt?: Date): JobSpec {
  return { task: 'guardian_run', payload: { tenantId }, key: `guardian:${tenantId}`, queue: `guardian:${tenantId}`, runAt };
}

/** Debounced: a burst of stock changes is one alert check. */
export function alertsStockJob(tenantId: string): JobSpec {
  return { task: 'alerts_stock', payload: { tenantId }, key: `alerts-stock:${tenantId}`, runAt: new Date(Date.now() + 1000) };
}

/**
 * Jobs that run on their own clock, one at a time for the whole installation: the scheduler enqueues
 * each again (after `everyMs`) whenever none is waiting or running.
 */
export const PERIODIC_JOBS: Array<JobSpec & { everyMs: number }> = [
  { task: 'alerts_health', payload: {}, key: 'alerts-health', everyMs: 60_000 },
  { task: 'retention', payload: {}, key: 'retention', everyMs: 3_600_000 },
];
