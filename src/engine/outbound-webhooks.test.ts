import { describe, expect, it } from 'vitest';
import { DEFAULT_TUNING, WEBHOOK_RETRY_SCHEDULE_MS } from './context.ts';
import { webhookJob } from '../db/job-specs.ts';
import { retryDelayMs } from './outbound-webhooks.ts';

describe('webhook retry schedule', () => {
  it('spans about three days, growing, by default', () => {
    expect(DEFAULT_TUNING.webhookRetryScheduleMs).toBe(WEBHOOK_RETRY_SCHEDULE_MS);
    const total = WEBHOOK_RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0) / 3_600_000;
    expect(total).toBeGreaterThan(66);
    expect(total).toBeLessThan(78);
    for (let i = 1; i < WEBHOOK_RETRY_SCHEDULE_MS.length; i++) expect(WEBHOOK_RETRY_SCHEDULE_MS[i]).toBeGreaterThanOrEqual(WEBHOOK_RETRY_SCHEDULE_MS[i - 1]!);
  });

  it('jitters each wait by at most 20% and ends after the last', () => {
    const s = [1000, 4000];
    expect(retryDelayMs(s, 0, () => 0)).toBe(800);
    expect(retryDelayMs(s, 0, () => 1)).toBe(1200);
    expect(retryDelayMs(s, 1, () => 0.5)).toBe(4000);
    expect(retryDelayMs(s, 2)).toBeNull();
  });

  it('keys a retry by its time, in the endpoint queue', () => {
    const at = new Date(1_700_000_000_000);
    expect(webhookJob('ten_1', 'whe_1')).toMatchObject({ key: 'whk:whe_1', queue: 'whk:whe_1' });
    expect(webhookJob('ten_1', 'whe_1', at)).toMatchObject({ key: 'whk:whe_1:1700000000000', queue: 'whk:whe_1', runAt: at });
  });
});
