// npm run bench -- ledger | webhooks | propagation --tenants N --rate R --duration S | load --tenants T --rate R --duration S [--api N --workers M --noisy K --items I --report FILE] | fairness [--tenants 10 --per-tenant 5 --noisy 20 --duration 20] | tenants --count N [--active A --window S --api N --workers M] | dashboard | vendure | medusa | csv-import | api | rls | usage | pause | publish | guardian --listings N [--tenants T --drift S --types eposnow]  [--record]
// Each benchmark is self-contained and bounded in time; progress goes to stderr and the LAST line
// of stdout is exactly one JSON object (the checks parse it).
import os from 'node:os';
import { benchApi } from './api.ts';
import { benchCsvImport } from './csv-import.ts';
import { benchDashboard } from './dashboard.ts';
import { benchLedger } from './ledger.ts';
import { benchMedusa } from './medusa.ts';
import { benchPropagation } from './propagation.ts';
import { benchLoad } from './load.ts';
import { benchFairness } from './fairness.ts';
import { benchIdleTenants } from './idle-tenants.ts';
import { benchGuardian } from './guardian.ts';
import { benchPause } from './pause.ts';
import { benchPublish } from './publish.ts';
import { recordRow } from './record.ts';
import { benchRls } from './rls.ts';
import { numFlag, parseArgs } from './stats.ts';
import { benchVendure } from './vendure.ts';
import { benchUsage } from './usage.ts';
import { benchWebhooks } from './webhooks.ts';
import { progress } from './env.ts';

const USAGE =
  'usage: npm run bench -- ledger [--tenant-tx] | webhooks | propagation --tenants N --rate R --duration S | load --tenants T --rate R --duration S [--api N --workers M --noisy K --items I --report FILE] | fairness [--tenants 10 --per-tenant 5 --noisy 20 --duration 20] | tenants --count N [--active A --window S --api N --workers M] | dashboard --items N --searches N | vendure [--seconds S --clients C] | medusa [--seconds S --clients C] | csv-import [--rows N] | api [--items N --searches N --seconds S --clients C] | rls | usage [--seconds S --rounds R --connections C] | pause [--tenants N --rate R --phase S] | publish [--products N --variants V --sales S] | guardian --listings N [--tenants T --drift S --types eposnow,...]  [--record]';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const { positional, flags } = parseArgs(argv);
  const name = positional[0];
  let result: Record<string, unknown>;
  let limitS: number;
  let run: () => Promise<Record<string, unknown>>;
  switch (name) {
    case 'api': {
      const seconds = numFlag(flags, 'seconds', 10);
      limitS = 240 + seconds;
      run = () =>
        benchApi({ items: numFlag(flags, 'items', 100_000), searches: numFlag(flags, 'searches', 300), seconds, clients: numFlag(flags, 'clients', 8) });
      break;
    }
    case 'ledger': {
      const seconds = numFlag(flags, 'seconds', 5);
      limitS = 120 + seconds * 4;
      run = () => benchLedger({ seconds, concurrency: numFlag(flags, 'concurrency', 4), tenantTx: flags['tenant-tx'] === true });
      break;
    }
    case 'webhooks': {
      const duration = numFlag(flags, 'duration', 10);
      limitS = 150 + duration * 2;
      run = () =>
        benchWebhooks({ rate: numFlag(flags, 'rate', 1000), duration, tenants: numFlag(flags, 'tenants', 4), connections: numFlag(flags, 'connections', 64) });
      break;
    }
    case 'propagation': {
      const duration = numFlag(flags, 'duration', 20);
      limitS = 180 + duration * 2;
      run = () =>
        benchPropagation({
          tenants: numFlag(flags, 'tenants', 20),
          rate: numFlag(flags, 'rate', 200),
          duration,
          items: numFlag(flags, 'items', 50),
          settleS: numFlag(flags, 'settle', 60),
          direct: flags.direct === true,
        });
      break;
    }
    case 'load': {
      const duration = numFlag(flags, 'duration', 30);
      const tenants = numFlag(flags, 'tenants', 20);
      // Setup connects tenants at about 15 a second; the settle wait is bounded.
      limitS = 240 + Math.ceil(tenants / 10) + duration * 2;
      run = () =>
        benchLoad({
          tenants,
          rate: numFlag(flags, 'rate', 200),
          duration,
          api: numFlag(flags, 'api', 1),
          workers: numFlag(flags, 'workers', 1),
          noisy: numFlag(flags, 'noisy', 1),
          items: numFlag(flags, 'items', 20),
          settleS: numFlag(flags, 'settle', 60),
          report: typeof flags.report === 'string' ? flags.report : null,
        });
      break;
    }
    case 'fairness': {
      const duration = numFlag(flags, 'duration', 20);
      limitS = 2 * (240 + duration * 2);
      run = () =>
        benchFairness({
          tenants: numFlag(flags, 'tenants', 10),
          perTenant: numFlag(flags, 'per-tenant', 5),
          noisy: numFlag(flags, 'noisy', 20),
          duration,
          api: numFlag(flags, 'api', 1),
          workers: numFlag(flags, 'workers', 1),
        });
      break;
    }
    case 'tenants': {
      const count = numFlag(flags, 'count', 1000);
      const windowS = numFlag(flags, 'window', 30);
      const settleS = numFlag(flags, 'settle', 20);
      // Setup connects tenants at about 15 a second.
      limitS = 180 + Math.ceil(count / 8) + windowS + settleS;
      run = () =>
        benchIdleTenants({
          count,
          active: numFlag(flags, 'active', Math.ceil(count / 100)),
          windowS,
          settleS,
          api: numFlag(flags, 'api', 1),
          workers: numFlag(flags, 'workers', 1),
        });
      break;
    }
    case 'pause': {
      const phase = numFlag(flags, 'phase', 15);
      limitS = 240 + phase * 3;
      run = () => benchPause({ tenants: numFlag(flags, 'tenants', 10), rate: numFlag(flags, 'rate', 50), phase, items: numFlag(flags, 'items', 20) });
      break;
    }
    case 'publish': {
      // The bulk job is given 15 minutes (500 products take about 4 at the marketplaces' 10 calls/s); setup and teardown on top.
      const jobLimitS = numFlag(flags, 'limit', 900);
      limitS = jobLimitS + 300;
      run = () =>
        benchPublish({
          products: numFlag(flags, 'products', 500),
          variants: numFlag(flags, 'variants', 3),
          sales: numFlag(flags, 'sales', 10),
          limitS: jobLimitS,
        });
      break;
    }
    case 'guardian': {
      const listings = numFlag(flags, 'listings', 300_000);
      const tenants = numFlag(flags, 'tenants', Math.max(1, Math.round(listings / 1000)));
      const types = (typeof flags.types === 'string' ? flags.types : 'eposnow').split(',') as Parameters<typeof benchGuardian>[0]['types'];
      // Setup connects tenants (imports their listings through the adapters) before the measured part.
      const guardianLimitS = numFlag(flags, 'limit', 600);
      limitS = 600 + Math.ceil(listings / 200) + guardianLimitS;
      run = () => benchGuardian({ listings, tenants, drift: numFlag(flags, 'drift', 0.01), types, limitS: guardianLimitS });
      break;
    }
    case 'dashboard': {
      const items = numFlag(flags, 'items', 10_000);
      limitS = 240;
      run = () => benchDashboard({ items, searches: numFlag(flags, 'searches', 20) });
      break;
    }
    case 'vendure': {
      const seconds = numFlag(flags, 'seconds', 10);
      limitS = 420 + seconds * 4;
      run = () => benchVendure({ seconds, clients: numFlag(flags, 'clients', 8), variants: numFlag(flags, 'variants', 100) });
      break;
    }
    case 'medusa': {
      const seconds = numFlag(flags, 'seconds', 10);
      // Must finish well inside 400 s, booting Medusa included.
      limitS = 360 + seconds * 2;
      run = () =>
        benchMedusa({
          seconds,
          clients: numFlag(flags, 'clients', 8),
          items: numFlag(flags, 'items', 100),
          shoppers: numFlag(flags, 'shoppers', 12),
          units: numFlag(flags, 'units', 5),
        });
      break;
    }
    case 'rls': {
      limitS = 300;
      run = () => benchRls();
      break;
    }
    case 'usage': {
      const seconds = numFlag(flags, 'seconds', 5);
      const rounds = numFlag(flags, 'rounds', 4);
      limitS = 120 + seconds * rounds * 2;
      run = () => benchUsage({ seconds, rounds, connections: numFlag(flags, 'connections', 16) });
      break;
    }
    case 'csv-import': {
      limitS = 600;
      run = () => benchCsvImport({ rows: numFlag(flags, 'rows', 100_000) });
      break;
    }
    default:
      process.stderr.write(USAGE + '\n');
      return 2;
  }
  // Bounded: a run that hangs reports that as its result instead of hanging the caller.
  const watchdog = setTimeout(() => {
    progress(`${name} exceeded ${limitS} s; giving up`);
    void emit({ error: `timed out after ${limitS} s` }, 1);
  }, limitS * 1000);
  watchdog.unref();
  // Other processes on the machine are not under our control: say how busy it was.
  const loadBefore = os.loadavg()[0]!;
  try {
    result = await run();
    result.machine_load_1m = Math.round(Math.max(loadBefore, os.loadavg()[0]!) * 100) / 100;
  } catch (err) {
    progress(`${name} failed: ${(err as Error).stack ?? String(err)}`);
    await emit({ error: (err as Error).message }, 1);
    return 1;
  }
  clearTimeout(watchdog);
  if (flags.record) {
    const command = `npm run bench -- ${argv.filter((a) => a !== '--record').join(' ')}`;
    progress(`recorded in ${recordRow(command, result)}`);
  }
  await emit(result, 0);
  return 0;
}

function emit(result: unknown, code: number): Promise<void> {
  return new Promise(() => {
    // Exit right after the line is flushed: idle keep-alive sockets must not hold the process.
    process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(code));
  });
}

process.on('unhandledRejection', (err) => progress(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));
void main().then((code) => {
  if (code !== 0) process.exitCode = code;
});
