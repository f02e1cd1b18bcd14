// Results of finished jobs, kept per job id until StockClerk acknowledges them. A job may be sent
// again (the socket dropped before the result arrived, the browser closed mid-job): the extension
// answers it from here instead of acting twice. Kept in chrome.storage.local, so a result survives
// the service worker being stopped and the browser restarting.
import type { JobOutcome } from '../protocol.ts';

const PREFIX = 'result:';
/** An unacknowledged result older than this is dropped (its job was long since given up on). */
const KEEP_MS = 7 * 24 * 3600_000;

interface Entry {
  outcome: JobOutcome;
  at: number;
}

export async function cachedResult(jobId: string): Promise<JobOutcome | null> {
  const key = PREFIX + jobId;
  const got = (await chrome.storage.local.get(key))[key] as Entry | undefined;
  return got ? got.outcome : null;
}

export async function rememberResult(jobId: string, outcome: JobOutcome): Promise<void> {
  await chrome.storage.local.set({ [PREFIX + jobId]: { outcome, at: Date.now() } satisfies Entry });
}

export async function forgetResult(jobId: string): Promise<void> {
  await chrome.storage.local.remove(PREFIX + jobId);
}

export async function pruneResults(now = Date.now()): Promise<void> {
  const all = await chrome.storage.local.get(null);
  const old = Object.entries(all)
    .filter(([k, v]) => k.startsWith(PREFIX) && now - ((v as Entry).at ?? 0) > KEEP_MS)
    .map(([k]) => k);
  if (old.length) await chrome.storage.local.remove(old);
}
