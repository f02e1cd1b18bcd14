// conn.extension for channels reached through a browser extension (capabilities.transport
// 'extension', docs/extension-protocol.md): the adapter's side of the durable job queue
// (src/services/extension-jobs.ts). The socket side (src/http/extension-socket.ts) sends the jobs
// and stores the results; both sides meet only in Postgres, so any worker may queue a job that the
// API process holding the extension's socket sends. `extensionSignals` shortcuts the wait when
// both sides share a process; across processes the socket side's sweep picks jobs up.
import { EventEmitter } from 'node:events';
import { ChannelError, type ExtensionRelay } from '../channels/contract.ts';
import type { Db } from '../db/pool.ts';
import { consumeExtensionJob, enqueueExtensionJob, extensionJob } from '../services/extension-jobs.ts';
import { extensionConnected } from '../services/extension-tokens.ts';

/** 'queued' (tenantId, channelId): a job is waiting; 'settled' (tenantId, jobId): a result is stored. */
export const extensionSignals = new EventEmitter().setMaxListeners(0);

const POLL_MS = 100;
/** Without a connected extension nobody will answer soon: hold a worker this long at most. */
const OFFLINE_WAIT_MS = 1_000;
/** When to try again: the extension is away (a person has to open their browser) / connected but busy. */
const RETRY_OFFLINE_MS = 5_000;
const RETRY_BUSY_MS = 2_000;

export function extensionRelay(db: Db, tenantId: string, channelId: string): ExtensionRelay {
  const connected = () => extensionConnected(db, tenantId, channelId);
  return {
    connected,
    async queue(kind, key, payload) {
      await enqueueExtensionJob(db, tenantId, channelId, { kind, key, payload, awaited: false });
      extensionSignals.emit('queued', tenantId, channelId);
    },
    async run(kind, key, payload, waitMs) {
      const job = await enqueueExtensionJob(db, tenantId, channelId, { kind, key, payload, awaited: true });
      extensionSignals.emit('queued', tenantId, channelId);
      const online = await connected();
      const deadline = Date.now() + (online ? waitMs : Math.min(waitMs, OFFLINE_WAIT_MS));
      for (;;) {
        const row = await extensionJob(db, tenantId, job.id);
        if (!row) throw new ChannelError('transient', `extension job ${job.id} is gone`);
        if (row.status === 'done' || row.status === 'failed') {
          await consumeExtensionJob(db, tenantId, job.id);
          if (row.status === 'done') return row.result;
          const message = row.error?.message ?? 'the extension reported a failure';
          throw new ChannelError('permanent', message);
        }
        const left = deadline - Date.now();
        if (left <= 0) break;
        await settledOrTimeout(tenantId, job.id, Math.min(POLL_MS * 5, left));
      }
      const still = await connected();
      throw new ChannelError(
        'rate_limited',
        still ? 'The extension has not finished this job yet' : 'Waiting for the extension: no browser extension is connected for this channel',
        { retryAfterMs: still ? RETRY_BUSY_MS : RETRY_OFFLINE_MS },
      );
    },
  };
}

function settledOrTimeout(tenantId: string, jobId: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      extensionSignals.off('settled', onSettled);
      resolve();
    };
    const onSettled = (t: string, id: string) => {
      if (t === tenantId && id === jobId) done();
    };
    const timer = setTimeout(done, ms);
    extensionSignals.on('settled', onSettled);
  });
}
