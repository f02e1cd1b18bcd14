// Webhooks that are only hints (WebhookHandler.pollOnHint: the platform signs nothing, so its
// bodies are never trusted) make the channel's poll run soon; the poll reads only the platform's
// API, and its event keys dedupe what the webhooks and earlier polls already brought.
//
// Lossless coalescing: a hint is answered once a poll job added AFTER it arrived is committed.
// That job (or the waiting one it merges into: same key, graphile keeps the earlier run time) has
// not started yet, so its API read comes after the hint; a job already running when it is added
// gets a new job after it (src/db/jobs.ts relayOutbox). Per channel and process, at most one add
// is in flight and one waits: every hint arriving meanwhile shares the waiting one, so a burst of
// hints is a couple of inserts and one poll. The first hint after a quiet spell polls at once
// (delayMs); under a steady stream polls are gapMs apart at least (the platform's API budget is
// shared with our pushes), and the hints of each gap share one poll.
import { addJobs } from '../db/jobs.ts';
import { pollJob } from '../db/job-specs.ts';
import { withTx, type Db } from '../db/pool.ts';

interface ChannelHints {
  /** The last add, settled either way: the next one starts after it. */
  tail: Promise<void>;
  /** The add not started yet, shared by every hint arriving before it starts. */
  waiting: Promise<void> | null;
  /** When the last poll asked for is due (ms). */
  lastRunAt: number;
}

/**
 * When the poll a hint asks for runs. A poll already asked for and due later has not started (a
 * job cannot start before its run time, and a key keeps its earliest one): asking for it again at
 * that same time joins it, or, if another request pulled it earlier and it ran, brings a poll back
 * at that time. Otherwise the next one is `gapMs` after the last, and never earlier than `delayMs`
 * from now. So a stream of hints never pushes the poll later than `gapMs` ahead (advancing the
 * time on every request drove it minutes ahead under a flood of webhooks, and the till's sales
 * waited for it: test/e2e/chaos.test.ts).
 */
export function nextPollAt(lastRunAt: number, now: number, delayMs: number, gapMs: number): number {
  if (lastRunAt > now) return lastRunAt;
  return Math.max(now + delayMs, lastRunAt + gapMs);
}

export class PollHints {
  private readonly channels = new Map<string, ChannelHints>();
  private readonly db: Db;
  private readonly onAdded: (dueInMs: number) => void;
  private readonly delayMs: number;
  private readonly gapMs: number;

  /** `onAdded(dueInMs)`: the poll is in the outbox, due that many ms from now (move it on, wake a worker then). */
  constructor(db: Db, onAdded: (dueInMs: number) => void, opts: { delayMs?: number; gapMs?: number } = {}) {
    this.db = db;
    this.onAdded = onAdded;
    this.delayMs = opts.delayMs ?? 0;
    this.gapMs = opts.gapMs ?? 1000;
  }

  /** Resolves once a poll of the channel that starts after this call is durably asked for. */
  hint(tenantId: string, channelId: string): Promise<void> {
    let c = this.channels.get(channelId);
    if (!c) {
      c = { tail: Promise.resolve(), waiting: null, lastRunAt: 0 };
      this.channels.set(channelId, c);
      if (this.channels.size > 10_000) this.channels.delete(this.channels.keys().next().value!);
    }
    if (c.waiting) return c.waiting;
    const ch = c;
    const add = async () => {
      ch.waiting = null; // hints from now on need an add of their own
      const runAt = nextPollAt(ch.lastRunAt, Date.now(), this.delayMs, this.gapMs);
      ch.lastRunAt = runAt;
      await withTx(this.db, (tx) => addJobs(tx, [{ ...pollJob(tenantId, channelId), runAt: new Date(runAt) }]));
      this.onAdded(runAt - Date.now());
    };
    const p = ch.tail.then(add);
    ch.waiting = p;
    ch.tail = p.catch(() => {});
    return p;
  }
}
