// What every part of a running StockClerk process shares.
import type { Config } from '../config.ts';
import type { Sealer } from '../db/crypto.ts';
import type { Db } from '../db/pool.ts';
import type { Logger } from '../log.ts';
import type { ChannelRuntime } from './channel-runtime.ts';

export interface EngineTuning {
  /** In-job retries of a failing push before handing the job back to the queue's backoff. */
  pushRetries: number;
  pushRetryBaseMs: number;
  /** The Guardian leaves alone listings touched this recently (an event may still be in flight). */
  guardianSettleMs: number;
  /** Seconds between safety-net polls of channels that can be polled. */
  pollIntervalS: number;
  schedulerTickMs: number;
}

export const DEFAULT_TUNING: EngineTuning = {
  pushRetries: 4,
  pushRetryBaseMs: 100,
  guardianSettleMs: 10_000,
  pollIntervalS: 30,
  schedulerTickMs: 2_000,
};

export interface AppContext {
  config: Config;
  db: Db;
  sealer: Sealer;
  jwtKey: Buffer;
  log: Logger;
  channels: ChannelRuntime;
  tuning: EngineTuning;
}
