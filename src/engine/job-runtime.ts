// What the jobs of one process share, held by its AppContext rather than module state: the outbox
// relays and worker pools to wake, the sampled queue counts, and the connection pool outbound
// webhooks go out over. A writer that fills the outbox (webhook intake) or adds a job for later (a
// push waiting for its rate budget, a webhook retry) wakes this process's own relay or workers
// through it instead of leaving the work to their next poll.
import type { Agent } from 'undici';
import type { WorkerPool } from 'graphile-worker';
import type { Db } from '../db/pool.ts';
import { QueueStats } from './queue-stats.ts';
import { createWebhookAgent } from './webhook-agent.ts';

export interface Nudgeable {
  nudge(): void;
}

export class JobRuntime {
  readonly queues = new QueueStats();
  private readonly pools = new Set<WorkerPool>();
  private readonly relays = new Set<Nudgeable>();
  private agent: Agent | null = null;
  private stopSampling: (() => void) | null = null;

  addPool(pool: WorkerPool): void {
    this.pools.add(pool);
  }

  removePool(pool: WorkerPool): void {
    this.pools.delete(pool);
  }

  addRelay(relay: Nudgeable): void {
    this.relays.add(relay);
  }

  removeRelay(relay: Nudgeable): void {
    this.relays.delete(relay);
  }

  /** Wakes this process's relay, if it runs one (API and worker in one process). */
  nudgeRelay(): void {
    for (const r of this.relays) r.nudge();
  }

  /**
   * A job added for later is noticed by graphile-worker only at its next poll: wakes this process's
   * workers when it falls due instead.
   */
  wakeWorkersIn(ms: number): void {
    if (this.pools.size === 0) return;
    setTimeout(() => {
      for (const p of this.pools) p.nudge(1);
    }, ms + 2).unref();
  }

  /** Outbound webhooks' connection pool (created on first use). */
  get webhookAgent(): Agent {
    return (this.agent ??= createWebhookAgent());
  }

  /** For a process that runs no scheduler: samples the queue counts on a clock of its own. */
  sampleQueuesEvery(db: Pick<Db, 'query'>, everyMs: number, onError: (err: unknown) => void): void {
    this.stopSampling?.();
    this.stopSampling = this.queues.sampleEvery(db, everyMs, onError);
  }

  async close(): Promise<void> {
    this.stopSampling?.();
    this.stopSampling = null;
    const agent = this.agent;
    this.agent = null;
    await agent?.close().catch(() => {});
  }
}
