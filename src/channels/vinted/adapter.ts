// Vinted's stock side, through the seller's browser extension (docs/extension-protocol.md):
// - a push is a queued job (nobody waits: the queue is durable, and the next read shows whether it
//   landed): for sale -> shown (`update hidden:false`); sold out -> the channel's on_zero choice
//   (hide, mark sold or delete);
// - listings and sales are read by jobs the extension answers (`read_listings`, `read_sales`);
//   without a connected extension there is nothing to read, so a poll does nothing and a read
//   says "waiting for the extension" (the engine tries again later);
// - a Vinted sale is an order of one unit of the item: event id `sale:<transaction_id>`.
import {
  ChannelError,
  type ChannelAdapter,
  type ChannelConnection,
  type ExtensionRelay,
  type InboundEvent,
  type PushRequest,
  type PushResult,
  type RemoteListing,
} from '../contract.ts';
import { VintedCatalog } from './catalog.ts';
import { JOB_WAIT_MS, VINTED_CAPABILITIES, type ExtListing, type ExtSale } from './model.ts';
import type { VintedSettings } from './settings.ts';

/** How long a poll waits for the extension's read of sales before leaving it for the next poll. */
const POLL_WAIT_MS = 1_000;

interface PollCursor {
  /** Newest sold_at seen; the next read asks from there (Vinted's dates are to the second, so that second is read again). */
  since: string;
  /** Transactions at `since`, already emitted. */
  seen: string[];
}

export class VintedAdapter implements ChannelAdapter {
  readonly type = 'vinted';
  readonly capabilities = VINTED_CAPABILITIES;
  readonly catalog: VintedCatalog;
  private readonly relay: ExtensionRelay | null;
  private readonly settings: VintedSettings;

  constructor(conn: ChannelConnection<VintedSettings>) {
    this.relay = conn.extension ?? null;
    this.settings = conn.settings;
    this.catalog = new VintedCatalog(new URL(conn.baseUrl).origin, conn.extension ?? null, conn.settings);
  }

  private ext(): ExtensionRelay {
    // Only a place that cannot queue (a connection test before the channel exists) has no relay.
    if (!this.relay) throw new ChannelError('transient', 'Vinted is reached through the browser extension: pair one on the channel page');
    return this.relay;
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    // Nothing to call: the seller's session lives in their browser. Connected or not, the channel is usable (jobs wait).
    if (this.relay && (await this.relay.connected())) return { ok: true, account: 'browser extension connected' };
    return { ok: true, account: 'waiting for the extension' };
  }

  private async readAll(): Promise<RemoteListing[]> {
    const answer = (await this.ext().run('read_listings', 'read_listings', {}, JOB_WAIT_MS)) as { listings?: ExtListing[] } | null;
    return (answer?.listings ?? []).map((l) => ({
      externalId: String(l.item_id),
      sku: null,
      name: l.title ?? null,
      qty: null,
      available: l.status === 'active',
      version: l.updated_at ?? null,
    }));
  }

  async *listListings(): AsyncIterable<RemoteListing[]> {
    yield await this.readAll();
  }

  async readListings(refs: Array<{ externalId: string }>): Promise<RemoteListing[]> {
    const want = new Set(refs.map((r) => r.externalId));
    return (await this.readAll()).filter((l) => want.has(l.externalId));
  }

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const relay = this.ext();
    for (const r of reqs) {
      const item_id = r.externalId;
      const [kind, payload] =
        r.qty > 0
          ? (['update', { item_id, hidden: false }] as const)
          : this.settings.on_zero === 'hide'
            ? (['update', { item_id, hidden: true }] as const)
            : ([this.settings.on_zero, { item_id }] as const);
      await relay.queue(kind, `push:${r.idempotencyKey}`, payload);
    }
    return reqs.map((r) => ({ listingId: r.listingId, outcome: 'ok', qty: r.qty, version: null }));
  }

  async pollEvents(cursor: string | null): Promise<{ events: InboundEvent[]; cursor: string | null }> {
    // No extension, nobody to ask: the next tick polls again (sales wait on Vinted meanwhile).
    if (!this.relay || !(await this.relay.connected())) return { events: [], cursor };
    const from: PollCursor | null = cursor ? (JSON.parse(cursor) as PollCursor) : null;
    // Every sale since the cursor (all of them the first time): a sale of an item that is not one
    // of our listings changes nothing, and each transaction is one event id, so none counts twice.
    // The poll shares the channel's queue with its pushes: it asks and comes back rather than
    // holding that queue while the extension works. The same key until answered: one job per cursor.
    let answer: { sales?: ExtSale[] } | null;
    try {
      answer = (await this.relay.run('read_sales', `read_sales:${from?.since ?? 'all'}`, from ? { since: from.since } : {}, POLL_WAIT_MS)) as typeof answer;
    } catch (err) {
      if (err instanceof ChannelError && err.kind === 'rate_limited') return { events: [], cursor };
      throw err;
    }
    const seen = new Set(from?.seen ?? []);
    const events: InboundEvent[] = [];
    let since = from?.since ?? null;
    for (const s of answer?.sales ?? []) {
      const id = String(s.transaction_id);
      if (seen.has(id)) continue;
      if (s.status && /cancel|refund/i.test(s.status)) continue; // GUESS: a cancelled sale never took the item
      const at = s.sold_at ?? new Date().toISOString();
      events.push({
        kind: 'order',
        externalEventId: `sale:${id}`,
        occurredAt: at,
        effect: 'sale',
        orderId: id,
        lines: [{ externalId: String(s.item_id), qty: 1 }],
      });
      if (!since || at > since) since = at;
    }
    const atSince = (answer?.sales ?? []).filter((s) => (s.sold_at ?? '') === since).map((s) => String(s.transaction_id));
    const next: PollCursor = { since: since ?? new Date(0).toISOString(), seen: since === from?.since ? [...seen, ...atSince] : atSince };
    return { events, cursor: JSON.stringify(next) };
  }

  isNewer(a: string | null | undefined, b: string | null | undefined): boolean {
    return !!a && (!b || a > b);
  }

  async close(): Promise<void> {}
}
