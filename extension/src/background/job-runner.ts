// Runs StockClerk's jobs one at a time (a seller's browser firing several uploads at once looks
// like a bot to Vinted's anti-bot layer), answers a job sent again with its first result, and
// holds every job while Vinted has asked us to slow down.
import { JobFailure, type Job, type JobOutcome } from '../protocol.ts';
import { failureOfThrown } from '../vinted/errors.ts';
import { runJob, type JobDeps } from '../vinted/jobs.ts';
import { cachedResult, rememberResult } from './result-cache.ts';

/** Failures that a second run cannot change: remembered like successes. Passing ones (session, throttled, network) run again. */
const FINAL = new Set(['rejected', 'not_found']);

export class JobRunner {
  private readonly running = new Map<string, Promise<JobOutcome>>();
  private queue: Promise<unknown> = Promise.resolve();
  private pausedUntil = 0;
  private readonly deps: () => JobDeps | null;
  private readonly onOutcome: (job: Job, outcome: JobOutcome) => void;

  constructor(deps: () => JobDeps | null, onOutcome: (job: Job, outcome: JobOutcome) => void) {
    this.deps = deps;
    this.onOutcome = onOutcome;
  }

  /** The job's outcome: remembered, already running (the same promise), or run now after the jobs before it. */
  handle(job: Job): Promise<JobOutcome> {
    const running = this.running.get(job.id);
    if (running) return running;
    const p = (async () => {
      const cached = await cachedResult(job.id);
      if (cached) return cached;
      const next = this.queue.then(() => this.execute(job));
      this.queue = next.catch(() => undefined);
      return next;
    })().finally(() => this.running.delete(job.id));
    this.running.set(job.id, p);
    return p;
  }

  private async execute(job: Job): Promise<JobOutcome> {
    let outcome: JobOutcome;
    const wait = this.pausedUntil - Date.now();
    const deps = this.deps();
    if (wait > 0) outcome = { ok: false, error: new JobFailure('throttled', 'Vinted asked us to slow down: waiting', wait).toError() };
    else if (!deps) outcome = { ok: false, error: { kind: 'network', message: 'not paired with a marketplace yet' } };
    else {
      try {
        outcome = { ok: true, result: await runJob(job, deps) };
      } catch (err) {
        const f = failureOfThrown(err, `${job.kind} job`);
        if (f.kind === 'throttled') this.pausedUntil = Date.now() + (f.retryAfterMs ?? 0);
        outcome = { ok: false, error: f.toError() };
      }
    }
    if (outcome.ok || FINAL.has(outcome.error.kind)) await rememberResult(job.id, outcome);
    this.onOutcome(job, outcome);
    return outcome;
  }
}
