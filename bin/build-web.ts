// Builds the dashboard (web/) into web/dist with Vite, unless web/dist is newer than every
// source file. Runs from `prepare` (npm install / npm ci) and before `npm start`; when nothing
// changed it only compares file times (a few milliseconds).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web');
const STAMP = path.join(WEB, 'dist', '.built');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

export function webIsStale(): boolean {
  if (!fs.existsSync(STAMP) || !fs.existsSync(path.join(WEB, 'dist', 'index.html'))) return true;
  // This script is an input too: how it builds changes what comes out.
  return Math.max(newestSource(WEB), fs.statSync(fileURLToPath(import.meta.url)).mtimeMs) > fs.statSync(STAMP).mtimeMs;
}

export async function buildWeb(opts: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  if (!opts.force && !webIsStale()) return false;
  const { build } = await import('vite');
  // Vite builds React in development mode when NODE_ENV says so (vitest sets 'test'): always production.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: WEB, configFile: path.join(WEB, 'vite.config.ts'), mode: 'production', logLevel: opts.quiet ? 'warn' : 'info' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  fs.writeFileSync(STAMP, new Date().toISOString() + '\n');
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const force = process.argv.includes('--force');
  const t0 = Date.now();
  const built = await buildWeb({ force });
  if (built) console.log(`dashboard built into web/dist in ${Date.now() - t0} ms`);
}
