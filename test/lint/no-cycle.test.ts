// The import rules in eslint.config.js are only worth having if they fire. import-x silently skips
// files whose extension it was not told to read (it reads only .js by default), so a config slip
// turns no-cycle into a rule that passes everything. These fixtures lint small trees of .ts files
// with the project's own config through ESLint's Node API and expect the errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ESLint, type Linter } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const CONFIG = path.resolve(import.meta.dirname, '../../eslint.config.js');
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

type RuleEntry = [Linter.RuleSeverity, { basePath?: string }];

/** The project's import direction rule as configured, to re-aim at a fixture tree. */
async function restrictedPaths(): Promise<RuleEntry> {
  const configs = (await import(CONFIG)).default as { rules?: Record<string, unknown> }[];
  const entry = configs.find((c) => c.rules?.['import-x/no-restricted-paths'])?.rules?.['import-x/no-restricted-paths'];
  if (!Array.isArray(entry)) throw new Error('eslint.config.js has no import-x/no-restricted-paths rule');
  return entry as RuleEntry;
}

/** Writes the files into a fresh temporary tree, lints them all, and returns rule ids per file. */
async function lint(files: Record<string, string>): Promise<Record<string, string[]>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-lint-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  // The direction zones are paths from the config's own folder; here they must be from the fixture's.
  const [severity, options] = await restrictedPaths();
  const eslint = new ESLint({
    cwd: dir,
    overrideConfigFile: CONFIG,
    overrideConfig: { files: ['src/**/*.ts'], rules: { 'import-x/no-restricted-paths': [severity, { ...options, basePath: dir }] } },
  });
  const results = await eslint.lintFiles(Object.keys(files));
  return Object.fromEntries(results.map((r) => [path.relative(dir, r.filePath), r.messages.map((m) => m.ruleId ?? `fatal: ${m.message}`)]));
}

describe('eslint.config.js import rules', () => {
  it('reports two modules that import each other', async () => {
    const found = await lint({
      'src/a.ts': "import { b } from './b.ts';\nexport const a = () => b();\n",
      'src/b.ts': "import { a } from './a.ts';\nexport const b = () => a();\n",
    });
    expect(found['src/a.ts']).toEqual(['import-x/no-cycle']);
    expect(found['src/b.ts']).toEqual(['import-x/no-cycle']);
  });

  it('reports a longer cycle, and one closed by a dynamic import()', async () => {
    const found = await lint({
      'src/worker.ts': "import { push } from './sync.ts';\nexport const wake = () => push();\n",
      'src/sync.ts': "import { note } from './events.ts';\nexport const push = () => note();\n",
      'src/events.ts': "export const note = async () => (await import('./worker.ts')).wake();\n",
    });
    expect(found['src/worker.ts']).toEqual(['import-x/no-cycle']);
    expect(found['src/events.ts']).toEqual(['import-x/no-cycle']);
  });

  it('lets type-only imports go both ways (they are erased before run time)', async () => {
    const found = await lint({
      'src/a.ts': "import type { B } from './b.ts';\nexport type A = { b?: B };\n",
      'src/b.ts': "import type { A } from './a.ts';\nexport type B = { a?: A };\n",
    });
    expect(found).toEqual({ 'src/a.ts': [], 'src/b.ts': [] });
  });

  it('keeps services from importing engine or http code', async () => {
    const found = await lint({
      'src/engine/worker.ts': 'export const wake = () => 1;\n',
      'src/services/items.ts': "import { wake } from '../engine/worker.ts';\nexport const save = () => wake();\n",
      'src/http/routes/items.ts': "import { save } from '../../services/items.ts';\nexport const route = () => save();\n",
    });
    expect(found['src/services/items.ts']).toEqual(['import-x/no-restricted-paths']);
    expect(found['src/http/routes/items.ts']).toEqual([]);
  });
});
