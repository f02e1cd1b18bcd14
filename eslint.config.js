// ESLint flat config. `npm run lint` runs it after `prettier --check`, and `npm test` runs lint.
// Formatting is Prettier's job alone: no stylistic rules here.
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Generated or built files, and what tests and the demo leave behind.
    ignores: ['sdk/src/schema.d.ts', 'web/dist/', 'extension/dist/', 'data/', '.tmp/', 'test-artifacts/', 'drizzle/meta/'],
  },
  // The Medusa peer's CLI state and generated types (peers/medusa is a Medusa project of its own).
  { ignores: ['peers/medusa/.medusa/', 'peers/medusa/.config/'] },
  js.configs.recommended,
  // Not the type-checked preset: it runs the TypeScript compiler inside ESLint, which on a two-core
  // machine costs about as much again as `tsc --noEmit`, and `npm test` runs that anyway.
  tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,js}'],
    plugins: { 'import-x': importX },
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: { ...globals.node } },
    settings: {
      // Imports name the file they mean, extension included ('./worker.ts'), as Node's type
      // stripping requires, so plain Node resolution finds them.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.json'] })],
      // import-x follows a dependency's own imports only for files with these extensions or with
      // a parser named below (.js/.mjs/.cjs by default): without .ts/.tsx it never looks inside our
      // files and no-cycle silently finds nothing. test/lint/no-cycle.test.ts fails if that returns.
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
    },
    rules: {
      // A cycle makes load order decide what is still undefined at first use, and hides which part
      // depends on which. Type-only imports are not followed (they vanish at run time); a dynamic
      // import() is, so a cycle cannot hide behind `await import(...)`.
      'import-x/no-cycle': 'error',
      // `_` marks a parameter or a destructured value left out on purpose (a handler's unused
      // request, `const { secret: _, ...rest } = row` to drop a field).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    // The direction of imports (docs/ARCHITECTURE.md): http and engine call services; services hold
    // the rules and the SQL and call db, domain and ledger; nothing below calls back up.
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          // Zones are paths from here, whichever directory ESLint is started in.
          basePath: import.meta.dirname,
          zones: [
            { target: './src/services', from: ['./src/engine', './src/http'], message: 'Services must not import engine or http code.' },
            { target: './src/engine', from: './src/http', message: 'Engine code must not import http code.' },
            {
              target: ['./src/db', './src/domain', './src/ledger', './src/mail'],
              from: ['./src/services', './src/engine', './src/http'],
              message: 'db, domain, ledger and mail sit below services, engine and http.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests and benchmarks read JSON answers and poke at internals; the contract checker
    // (test/setup-contract.ts) already holds every API answer to the OpenAPI document.
    files: ['test/**/*.ts', '**/*.test.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The dashboard runs in the browser. Only the two classic hook rules: the plugin's
    // React Compiler rules judge patterns this dashboard does not use the compiler for.
    files: ['web/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    // The browser extension runs in Chrome: a service worker and an extension page, with chrome.*.
    files: ['extension/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser, ...globals.serviceworker, ...globals.webextensions } },
  },
  {
    // The Vendure plugin and its dev server are plain CommonJS, dropped into a Vendure project as is.
    files: ['integrations/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      // `const crypto = require('node:crypto')` shadows Node's global `crypto` on purpose.
      'no-redeclare': ['error', { builtinGlobals: false }],
    },
  },
);
