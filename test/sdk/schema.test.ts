// sdk/src/schema.d.ts is generated from the OpenAPI document (`npm run sdk:generate`) and committed:
// this fails when the document changed and the file was not regenerated.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateSchema, SCHEMA_FILE, servedDocument } from '../../sdk/scripts/generate.ts';
import { startHarness } from '../helpers/stockclerk.ts';

describe('SDK types', () => {
  it('sdk/src/schema.d.ts matches the current OpenAPI document (run `npm run sdk:generate`)', async () => {
    const fresh = await generateSchema();
    expect(fs.readFileSync(SCHEMA_FILE, 'utf8') === fresh, 'sdk/src/schema.d.ts is stale: run `npm run sdk:generate` and commit it').toBe(true);
  });

  it('the in-process document is the one a running server serves', async () => {
    const h = await startHarness({ worker: false });
    try {
      const served = await (await fetch(`${h.url}/api/v1/openapi.json`)).json();
      expect(served).toEqual(await servedDocument());
    } finally {
      await h.stop();
    }
  });
});
