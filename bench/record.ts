// `--record`: appends one row (date, command, JSON) to BENCHMARKS.md at the repo root, creating
// the file with a short header on first use.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../BENCHMARKS.md');

function header(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `# Benchmarks

Measured with \`npm run bench -- <name> [options] --record\` (bench/run.ts). Every run is self-contained:
its own PostgreSQL (embedded, in a fresh temp dir, fsync on; or a fresh database on the
\`DATABASE_URL\` server), its own StockClerk (\`startStockClerk\`, 127.0.0.1, workers at their
defaults: concurrency 8, pool 30) and its channel emulators in the same process; it stops everything it started and prints
one JSON object as the last line of stdout. \`machine_load_1m\` is the 1-minute load average around
the run: other processes on a shared machine skew every number, read rows with it. Machine of the first rows: ${os.cpus().length} x ${cpu},
${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}.

- \`ledger\`: movements/s through \`recordMovements\` (1 per call, 100 per call) and the raw-SQL ceiling
  (same inserts + level upserts, one jsonb_to_recordset statement, 100 per transaction), 4 connections.
- \`webhooks\`: signed, unique Deliveroo order.new / Epos Now transaction webhooks fired at a fixed rate
  (open loop, from a worker thread); accept latency percentiles and non-2xx/errors.
- \`propagation --tenants N --rate R --duration S\`: sales on the Epos Now, Wix and Deliveroo emulators
  (their /_control sale endpoint over HTTP); time until every other quantity-holding channel
  (Epos Now, Wix) received a write at or below the level expected after the sale; lost / doubled
  sales from the ledger after quiescence. Emulator rate limits as each platform documents.

| date | command | result |
| --- | --- | --- |
`;
}

export function recordRow(command: string, result: unknown): string {
  if (!fs.existsSync(FILE)) fs.writeFileSync(FILE, header());
  const row = `| ${new Date().toISOString().slice(0, 16).replace('T', ' ')} | \`${command}\` | \`${JSON.stringify(result).replace(/\|/g, '\\|')}\` |\n`;
  fs.appendFileSync(FILE, row);
  return FILE;
}
