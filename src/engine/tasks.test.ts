import { describe, expect, it } from 'vitest';
import {
  alertDigestJob,
  billingSyncJob,
  catalogCheckJob,
  publishJob,
  alertMailJob,
  alertMailJobTemplate,
  mailJob,
  alertsHealthJob,
  alertsStockJob,
  applyJob,
  guardianJob,
  GUARDIAN_TASKS,
  PERIODIC_JOBS,
  pollJob,
  pushJob,
  pushJobTemplate,
  retentionJob,
  TASK_NAMES,
  TASKS,
  webhookJob,
  webhookJobTemplate,
  type JobSpec,
} from '../db/job-specs.ts';
import { outboxRow } from '../db/jobs.ts';
import { loadConfig } from '../config.ts';
import type { AppContext } from './context.ts';
import { TASK_HANDLERS } from './tasks.ts';
import { taskList } from './worker.ts';

const sorted = (xs: Iterable<string>) => [...xs].sort();
const withGuardian = (workerGuardian: boolean) => ({ config: { workerGuardian } }) as AppContext;

/** Every builder of the registry, with sample arguments. */
const BUILT: JobSpec[] = [
  pushJob('ten_1', 'ch_1'),
  pushJob('ten_1', 'ch_1', new Date()),
  applyJob('ten_1', 'ch_1'),
  pollJob('ten_1', 'ch_1'),
  guardianJob('ten_1'),
  alertsStockJob('ten_1'),
  webhookJob('ten_1', 'whe_1'),
  webhookJob('ten_1', 'whe_1', new Date(1_700_000_000_000)),
  alertsHealthJob(),
  retentionJob(new Date()),
  pushJobTemplate('ten_1'),
  webhookJobTemplate('ten_1'),
  mailJob('v2.sealed'),
  alertMailJob('ten_1', 'alr_1'),
  alertMailJobTemplate('ten_1'),
  alertDigestJob(),
  billingSyncJob('ten_1'),
  publishJob('ten_1', 'pub_1', 'ch_1'),
  publishJob('ten_1', 'pub_1', 'ch_1', 'bulk', new Date()),
  catalogCheckJob('ten_1', 'ch_1'),
  ...PERIODIC_JOBS,
];

describe('job registry', () => {
  it("the worker's task list is exactly the registry's tasks, each with its handler", () => {
    expect(sorted(TASK_NAMES)).toEqual(sorted(Object.keys(TASKS)));
    expect(sorted(Object.keys(TASK_HANDLERS))).toEqual(sorted(TASK_NAMES));
    expect(sorted(Object.keys(taskList(withGuardian(true))))).toEqual(sorted(TASK_NAMES));
    for (const name of TASK_NAMES) expect(typeof TASK_HANDLERS[name], name).toBe('function');
  });

  it("a `stockclerk guardian` process runs only the Guardian's tasks; WORKER_GUARDIAN=0 leaves them out of the other workers", () => {
    expect(sorted(GUARDIAN_TASKS)).toEqual(['catalog_check', 'guardian_run']);
    expect(sorted(Object.keys(taskList(withGuardian(true), GUARDIAN_TASKS)))).toEqual(['catalog_check', 'guardian_run']);
    const rest = Object.keys(taskList(withGuardian(false)));
    expect(sorted([...rest, ...GUARDIAN_TASKS])).toEqual(sorted(TASK_NAMES));
    expect(rest).not.toContain('guardian_run');
    expect(loadConfig({}).workerGuardian).toBe(true);
    expect(loadConfig({ WORKER_GUARDIAN: '0' }).workerGuardian).toBe(false);
  });

  it("every builder's task is registered, and every registered task has a builder", () => {
    for (const spec of BUILT) expect(TASK_NAMES, spec.task).toContain(spec.task);
    // api_job's builder sits with the API jobs (apiJobSpec); the rest are here.
    expect(sorted(new Set([...BUILT.map((s) => s.task), 'api_job']))).toEqual(sorted(TASK_NAMES));
  });

  it('names a channel or tenant as the subject of every key and queue (how queue counts find a tenant)', () => {
    const subject = (s: string | undefined) => s?.split(':')[1];
    for (const spec of [
      pushJob('ten_1', 'ch_1'),
      applyJob('ten_1', 'ch_1'),
      pollJob('ten_1', 'ch_1'),
      publishJob('ten_1', 'pub_1', 'ch_1'),
      catalogCheckJob('ten_1', 'ch_1'),
    ]) {
      expect(subject(spec.key), spec.task).toBe('ch_1');
      expect(subject(spec.queue), spec.task).toBe('ch_1');
    }
    for (const spec of [guardianJob('ten_1'), alertsStockJob('ten_1')]) expect(subject(spec.key), spec.task).toBe('ten_1');
    expect(subject(guardianJob('ten_1').queue)).toBe('ten_1');
  });

  it('builds, in SQL, the same jobs the builders build (the templates with the id appended)', () => {
    const fill = (template: JobSpec, id: string, field: 'channelId' | 'endpointId') => {
      const row = outboxRow(template);
      return { task: row.task, job_key: row.job_key + id, queue_name: row.queue_name + id, payload: { ...(row.payload as object), [field]: id } };
    };
    const pick = (spec: JobSpec) => {
      const row = outboxRow(spec);
      return { task: row.task, job_key: row.job_key, queue_name: row.queue_name, payload: row.payload };
    };
    expect(fill(pushJobTemplate('ten_1'), 'ch_9', 'channelId')).toEqual(pick(pushJob('ten_1', 'ch_9')));
    expect(fill(webhookJobTemplate('ten_1'), 'whe_9', 'endpointId')).toEqual(pick(webhookJob('ten_1', 'whe_9')));
    // raiseAlert's statement appends the alert id to the key and the payload (no queue).
    const t = outboxRow(alertMailJobTemplate('ten_1'));
    const a = outboxRow(alertMailJob('ten_1', 'alr_9'));
    expect({ task: t.task, job_key: t.job_key + 'alr_9', payload: { ...(t.payload as object), alertId: 'alr_9' }, max_attempts: t.max_attempts }).toEqual({
      task: a.task,
      job_key: a.job_key,
      payload: a.payload,
      max_attempts: a.max_attempts,
    });
  });
});
