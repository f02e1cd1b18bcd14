// Outbound notifications the way platforms post them: from a queue after the cause, at least
// once (sometimes twice), sometimes late enough to be overtaken, retried with backoff on any
// non-2xx or network error, then given up. The platform code decides body, headers and
// signature; this only carries them.
import { Agent, request } from 'undici';
import type { Knobs } from './knobs.ts';
import { sleep } from './http.ts';

export interface Delivery {
  headers: Record<string, string>;
  body: string;
}

export interface DeliveryStats {
  webhooksSent: number;
  webhooksFailed: number;
}

const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });

export class Deliveries {
  private readonly pending = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly knobs: () => Knobs;
  private readonly stats: DeliveryStats;

  constructor(knobs: () => Knobs, stats: DeliveryStats) {
    this.knobs = knobs;
    this.stats = stats;
  }

  /** Fire and forget; `drain()` waits for what is in flight. */
  send(url: string, d: Delivery): void {
    if (this.stopped) return;
    const k = this.knobs();
    const copies = Math.random() < k.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = k.webhookDelayMs + (Math.random() < k.reorderRate ? Math.random() * k.reorderDelayMs : 0);
      const p = this.deliver(url, d, delay).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  /** Waits until every delivery in flight has landed or been given up. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** No new deliveries and no further retries (the emulator is closing). */
  stop(): void {
    this.stopped = true;
  }

  private async deliver(url: string, d: Delivery, delayMs: number): Promise<void> {
    if (delayMs > 0) await sleep(delayMs);
    for (let attempt = 1; attempt <= this.knobs().webhookMaxAttempts && !this.stopped; attempt++) {
      try {
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...d.headers },
          body: d.body,
          dispatcher: agent,
          headersTimeout: 5000,
          bodyTimeout: 5000,
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) {
          this.stats.webhooksSent++;
          return;
        }
      } catch {
        // connection refused / timeout: retried like a platform would
      }
      await sleep(Math.min(5000, 200 * 2 ** (attempt - 1)));
    }
    this.stats.webhooksFailed++;
  }
}
