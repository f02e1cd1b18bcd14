// sdk/src/schema.d.ts is generated from the OpenAPI document (`npm run sdk:generate`) and committed:
// this fails when a document changed and the file was not regenerated. It covers every document
// the API serves (integrators, accounts, operators), joined.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fetchDocuments, generateSchema, SCHEMA_FILE, servedDocuments } from '../../sdk/scripts/generate.ts';
import { startHarness } from '../helpers/stockclerk.ts';

describe('SDK types', () => {
  it('sdk/src/schema.d.ts matches the current OpenAPI document (run `npm run sdk:generate`)', async () => {
    const fresh = await generateSchema();
    expect(fs.readFileSync(SCHEMA_FILE, 'utf8') === fresh, 'sdk/src/schema.d.ts is stale: run `npm run sdk:generate` and commit it').toBe(true);
  });

  it('the in-process documents are the ones a running server serves', async () => {
    const h = await startHarness({ worker: false });
    try {
      expect(await fetchDocuments(h.url)).toEqual(await servedDocuments());
    } finally {
      await h.stop();
    }
  });
});
