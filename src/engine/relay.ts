// The outbox relay: moves jobs that transactions wrote to job_outbox into graphile-worker.
// Runs in every worker process, every few milliseconds while there is work and on a nudge from
// this process's own writers (webhook intake, through ctx.jobs); concurrent relays skip each
// other's rows.
import { relayOutbox } from '../db/jobs.ts';
import type { AppContext } from './context.ts';

export interface Relay {
  nudge(): void;
  stop(): Promise<void>;
}

/** Nudges this close together are served by one relay run. */
const NUDGE_COALESCE_MS = 3;
/**
 * An idle relay looks less and less often, up to this: rows written in this process come with a
 * nudge; only another process's writes without one (an API write on a process with no relay)
 * wait for the look. Idle, four relays at a fixed 20 ms took ~10% of a core of Postgres.
 */
const IDLE_MAX_MS = 200;

export function startRelay(ctx: AppContext, idleMs = 20): Relay {
  let stopped = false;
  let wake: (() => void) | null = null;
  let nudged = false;
  let idle = idleMs;
  const loop = (async () => {
    while (!stopped) {
      nudged = false;
      let moved = 0;
      try {
        moved = await relayOutbox(ctx.db);
      } catch (err) {
        if (!stopped) ctx.log.error({ err }, 'outbox relay failed; retrying');
      }
      // A full batch means more is waiting: go again at once. A nudge during the run: go again
      // after a breath, so the nudges of a busy moment share one relay statement.
      if (moved >= 1000 || stopped) continue;
      if (nudged) {
        idle = idleMs;
        await new Promise((r) => setTimeout(r, NUDGE_COALESCE_MS));
        continue;
      }
      // Work found: look again soon. None: look later each time (a nudge resets it).
      idle = moved > 0 ? idleMs : Math.min(IDLE_MAX_MS, idle * 2);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, idle).unref();
      });
      wake = null;
    }
  })();
  const relay: Relay = {
    nudge() {
      nudged = true;
      idle = idleMs;
      wake?.();
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      ctx.jobs.removeRelay(relay);
    },
  };
  ctx.jobs.addRelay(relay);
  return relay;
}
