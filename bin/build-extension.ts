// Builds the browser extension (extension/) into extension/dist with esbuild: the service worker
// and the options page's script bundled (Chrome loads no bare imports and nothing is fetched at
// run time), the manifest (its // comments stripped, the JSON checked) and the page copied. Skips
// the build when extension/dist is newer than every source, as bin/build-web.ts does; runs from
// `prepare` (npm ci) and `npm run build:extension` (which forces it). Load extension/dist as an
// unpacked extension (chrome://extensions, developer mode) or pack it for the store.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXTENSION = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../extension');
export const EXTENSION_DIST = path.join(EXTENSION, 'dist');
const STAMP = path.join(EXTENSION_DIST, '.built');
/** Entry points -> output names the manifest and options.html refer to. */
const ENTRIES = { background: 'src/background/service-worker.ts', options: 'src/options/options.ts' };
const COPIED = ['options.html', 'options.css'];

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

export function extensionIsStale(): boolean {
  if (!fs.existsSync(STAMP) || !fs.existsSync(path.join(EXTENSION_DIST, 'manifest.json'))) return true;
  return Math.max(newestSource(EXTENSION), fs.statSync(fileURLToPath(import.meta.url)).mtimeMs) > fs.statSync(STAMP).mtimeMs;
}

/** The manifest without its whole-line // comments, parsed (a syntax error fails the build, not Chrome's load). */
export function readManifest(): Record<string, unknown> {
  const text = fs
    .readFileSync(path.join(EXTENSION, 'manifest.json'), 'utf8')
    .split('\n')
    .filter((line) => !/^\s*\/\//.test(line))
    .join('\n');
  return JSON.parse(text) as Record<string, unknown>;
}

export async function buildExtension(opts: { force?: boolean } = {}): Promise<boolean> {
  if (!opts.force && !extensionIsStale()) return false;
  const { build } = await import('esbuild');
  fs.rmSync(EXTENSION_DIST, { recursive: true, force: true });
  fs.mkdirSync(EXTENSION_DIST, { recursive: true });
  await build({
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([out, src]) => [out, path.join(EXTENSION, src)])),
    outdir: EXTENSION_DIST,
    bundle: true,
    // A classic script for both: the manifest's service worker is not declared "type": "module".
    format: 'iife',
    target: 'chrome116',
    platform: 'browser',
    sourcemap: 'linked',
    // Readable in chrome://extensions' inspector; the size is no concern for an installed extension.
    minify: false,
    tsconfig: path.join(EXTENSION, 'tsconfig.json'),
    logLevel: 'warning',
  });
  fs.writeFileSync(path.join(EXTENSION_DIST, 'manifest.json'), JSON.stringify(readManifest(), null, 2) + '\n');
  for (const f of COPIED) fs.copyFileSync(path.join(EXTENSION, f), path.join(EXTENSION_DIST, f));
  fs.writeFileSync(STAMP, new Date().toISOString() + '\n');
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = Date.now();
  const built = await buildExtension({ force: process.argv.includes('--force') });
  if (built) console.log(`extension built into extension/dist in ${Date.now() - t0} ms`);
}
