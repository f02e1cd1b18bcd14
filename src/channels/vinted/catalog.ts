// Vinted's catalog side, through the seller's browser extension (docs/extension-protocol.md). A
// Vinted listing is one item: a product publishes with exactly one variant. Each action is one job
// the extension runs in the seller's session; a plan shows it as the Vinted call it becomes (the
// URL the extension calls) with the job's own payload as the body, so a dry run says what goes out.
// publish -> `publish` (photos from our media URLs, title, description, price); update -> `update`;
// delist -> hide the item (it comes back on relist: a deleted Vinted item cannot).
import { createHash } from 'node:crypto';
import { amountOf, minorOf } from '../catalog.ts';
import {
  ChannelError,
  type CatalogAction,
  type CatalogPlan,
  type CatalogSide,
  type ExtensionRelay,
  type ListingDraft,
  type PlannedRequest,
  type PublishedRef,
  type RemoteCatalogFields,
} from '../contract.ts';
import { JOB_WAIT_MS, type ExtListing } from './model.ts';
import type { VintedSettings } from './settings.ts';

const permanent = (msg: string): never => {
  throw new ChannelError('permanent', msg);
};

/** The job a planned request stands for. */
interface JobBody {
  job: string;
  payload: Record<string, unknown>;
}

export class VintedCatalog implements CatalogSide {
  private readonly origin: string;
  private readonly relay: ExtensionRelay | null;
  private readonly settings: VintedSettings;

  constructor(origin: string, relay: ExtensionRelay | null, settings: VintedSettings) {
    this.origin = origin;
    this.relay = relay;
    this.settings = settings;
  }

  private fields(draft: ListingDraft): Record<string, unknown> {
    if (draft.variants.length !== 1) permanent('A Vinted listing is one item: publish a product with exactly one variant');
    if (draft.images.length === 0) permanent('Vinted needs at least one photo: add one to the product');
    const v = draft.variants[0]!;
    return {
      title: draft.title,
      description: draft.description || draft.title,
      price: { amount: amountOf(v.priceMinor, draft.currency), currency: draft.currency },
      ...(draft.brand ? { brand: draft.brand } : {}),
      ...(draft.attributes.size ? { size: draft.attributes.size } : {}),
      condition: this.settings.condition_id ?? 2,
    };
  }

  plan(action: CatalogAction, draft: ListingDraft, existing: PublishedRef | null): CatalogPlan {
    if (action !== 'publish' && !existing) permanent(`Cannot ${action} a product that is not listed on Vinted`);
    const api = `${this.origin}/api/v2`;
    let req: PlannedRequest;
    if (action === 'publish') {
      const payload = { ref: draft.productId, ...this.fields(draft), photos: draft.images.map((i) => i.url) };
      req = {
        method: 'POST',
        url: `${api}/item_upload/items`,
        body: { job: 'publish', payload } satisfies JobBody,
        capture: { item_id: 'item_id' },
        label: 'Publish the item (the browser extension uploads the photos and creates it)',
      };
    } else if (action === 'update') {
      req = {
        method: 'PUT',
        url: `${api}/item_upload/items/${existing!.externalId}`,
        body: { job: 'update', payload: { item_id: existing!.externalId, ...this.fields(draft) } } satisfies JobBody,
        label: 'Edit the item (through the browser extension)',
      };
    } else {
      const hidden = action === 'delist';
      req = {
        method: 'PUT',
        url: `${api}/items/${existing!.externalId}/is_hidden`,
        body: { job: 'update', payload: { item_id: existing!.externalId, hidden } } satisfies JobBody,
        label: hidden ? 'Hide the item (through the browser extension)' : 'Show the item again (through the browser extension)',
      };
    }
    return {
      requests: [req],
      outcome: (captured) => {
        const itemId = captured.item_id ?? existing!.externalId;
        return { ref: { externalId: itemId, refs: {} }, listings: draft.variants.map((v) => ({ sku: v.sku, externalId: itemId })) };
      },
    };
  }

  async send(req: PlannedRequest): Promise<unknown> {
    if (!this.relay) throw new ChannelError('transient', 'Vinted is reached through the browser extension: pair one on the channel page');
    const { job, payload } = req.body as JobBody;
    // The same request sent again (a retried publishing job) is the same extension job until its
    // result has been read: a publish that timed out waiting is never queued twice.
    const key = `catalog:${createHash('sha256')
      .update(JSON.stringify([req.method, req.url, req.body]))
      .digest('hex')
      .slice(0, 32)}`;
    const answer = await this.relay.run(job, key, payload, JOB_WAIT_MS);
    if (job === 'publish') {
      const id = (answer as { item_id?: unknown } | null)?.item_id;
      if (id === undefined || id === null) throw new ChannelError('transient', 'The extension answered the publish without an item id');
      return { item_id: String(id) };
    }
    // A sold item is final on Vinted: the extension answers an update of one `status: 'sold'` (a
    // stock push hiding or showing it has nothing left to do). A hide (delist) is done either way;
    // an edit or a relist did not happen, and the merchant is told why.
    if (job === 'update' && (answer as { status?: unknown } | null)?.status === 'sold' && payload.hidden !== true)
      permanent(`Item ${String(payload.item_id)} is sold on Vinted: a sold item cannot be edited or listed again`);
    return answer;
  }

  async readFields(refs: PublishedRef[]): Promise<RemoteCatalogFields[]> {
    if (!this.relay || refs.length === 0) return [];
    const answer = (await this.relay.run('read_listings', 'read_listings', {}, JOB_WAIT_MS)) as { listings?: ExtListing[] } | null;
    const byId = new Map((answer?.listings ?? []).map((l) => [String(l.item_id), l]));
    return refs.flatMap((r) => {
      const l = byId.get(r.externalId);
      if (!l) return [];
      const amount = l.price?.amount;
      const currency = l.price?.currency ?? l.price?.currency_code ?? null;
      return [
        {
          externalId: r.externalId,
          title: l.title ?? null,
          // The wardrobe read carries no description: never a conflict on it.
          description: null,
          priceMinor: amount !== undefined && amount !== null && currency ? minorOf(String(amount), currency) : null,
        },
      ];
    });
  }
}
