// Vinted's catalog side against a relay that answers for the extension: an update the extension
// answers `status: 'sold'` (docs/extension-protocol.md, section 1) is done when it hid the item,
// and a merchant-facing refusal when it was an edit or a relist (neither can happen to a sold item).
import { describe, expect, it } from 'vitest';
import { runPlan } from '../catalog.ts';
import { ChannelError, type ExtensionRelay, type ListingDraft } from '../contract.ts';
import { VintedCatalog } from './catalog.ts';
import { vintedSettings } from './settings.ts';

const DRAFT: ListingDraft = {
  productId: 'prod_1',
  title: 'Tweed jacket',
  description: 'Harris tweed',
  brand: null,
  category: null,
  attributes: {},
  currency: 'GBP',
  options: [],
  images: [{ id: 'img_1', url: 'http://127.0.0.1/media/a.png', contentType: 'image/png' }],
  variants: [{ itemId: 'itm_1', sku: 'TWEED-1', optionValues: {}, priceMinor: 4500, qty: 1 }],
};
const EXISTING = { externalId: '4242', refs: {} };

/** A relay whose extension answers every job with `result`; the jobs it was given are kept. */
function relay(result: unknown) {
  const jobs: Array<{ kind: string; payload: unknown }> = [];
  const r: ExtensionRelay = {
    connected: async () => true,
    queue: async () => {},
    run: async (kind, _key, payload) => {
      jobs.push({ kind, payload });
      return result;
    },
  };
  return { jobs, catalog: new VintedCatalog('https://www.vinted.co.uk', r, vintedSettings.parse({})) };
}

describe('an update of an item sold on Vinted', () => {
  it('delist: hidden or sold, the item cannot be bought: done', async () => {
    const { jobs, catalog } = relay({ item_id: '4242', status: 'sold' });
    const plan = catalog.plan('delist', DRAFT, EXISTING);
    await expect(runPlan(catalog, plan.requests)).resolves.toEqual({});
    expect(jobs).toEqual([{ kind: 'update', payload: { item_id: '4242', hidden: true } }]);
  });

  it('an edit or a relist did not happen: a permanent error saying why', async () => {
    for (const action of ['update', 'relist'] as const) {
      const { catalog } = relay({ item_id: '4242', status: 'sold' });
      const err = await runPlan(catalog, catalog.plan(action, DRAFT, EXISTING).requests).catch((e: unknown) => e);
      expect(err, action).toBeInstanceOf(ChannelError);
      expect(err).toMatchObject({ kind: 'permanent', message: expect.stringMatching(/4242 is sold on Vinted/) });
    }
    // Not sold: the edit went through.
    const { catalog } = relay({ item_id: '4242' });
    await expect(runPlan(catalog, catalog.plan('update', DRAFT, EXISTING).requests)).resolves.toEqual({});
  });
});
