// Prometheus metrics (served at /metrics). One registry per process.
import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const metrics = {
  webhookAccept: new client.Histogram({
    name: 'stockclerk_webhook_accept_seconds',
    help: 'Time from webhook arrival to 2xx answer',
    labelNames: ['channel_type', 'outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  }),
  pushes: new client.Counter({
    name: 'stockclerk_pushes_total',
    help: 'Listing pushes by channel type and outcome',
    labelNames: ['channel_type', 'outcome'],
    registers: [registry],
  }),
  jobSeconds: new client.Histogram({
    name: 'stockclerk_job_seconds',
    help: 'Job run time by task',
    labelNames: ['task', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  }),
  jobLatency: new client.Histogram({
    name: 'stockclerk_job_latency_seconds',
    help: 'Time from a job being due to it starting',
    labelNames: ['task'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  }),
  queueDepth: new client.Gauge({
    name: 'stockclerk_job_queue_depth',
    help: 'Jobs waiting, by task',
    labelNames: ['task'],
    registers: [registry],
  }),
  drift: new client.Counter({
    name: 'stockclerk_drift_found_total',
    help: 'Listings the Guardian found drifting, by action',
    labelNames: ['channel_type', 'action'],
    registers: [registry],
  }),
  alerts: new client.Counter({
    name: 'stockclerk_alerts_raised_total',
    help: 'Alerts raised by type',
    labelNames: ['type'],
    registers: [registry],
  }),
  events: new client.Counter({
    name: 'stockclerk_inbound_events_total',
    help: 'Inbound channel events by outcome',
    labelNames: ['channel_type', 'outcome'],
    registers: [registry],
  }),
  // The read replica (src/db/replica.ts); both gauges stay 0 without DATABASE_REPLICA_URL.
  replicaLag: new client.Gauge({
    name: 'stockclerk_replica_lag_seconds',
    help: 'Bound on how stale the read replica is: the age of the newest primary commit it surely holds',
    registers: [registry],
  }),
  replicaUp: new client.Gauge({
    name: 'stockclerk_replica_up',
    help: '1 while the read replica answers as a standby, else 0',
    registers: [registry],
  }),
  replicaReads: new client.Counter({
    name: 'stockclerk_replica_reads_total',
    help: 'Dashboard and report reads by where they ran (source) and why (reason: replica, or why the primary served)',
    labelNames: ['source', 'reason'],
    registers: [registry],
  }),
};
