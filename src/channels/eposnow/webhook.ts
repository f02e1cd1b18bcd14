// Inbound Epos Now webhooks. Epos Now's webhook page (beta) describes no signature: the device
// POSTs the V4 model JSON of the changed entity to its base URL + the trigger's route path
// (channel-apis.md §3). So nothing in the request proves who sent it:
//  - it is authenticated by the channel's secret webhook URL (`urlSecret`: intake checks it before
//    verify(); src/channels/url-secret.ts), and
//  - its body is only a hint. A Transaction hint (`Id` + `TransactionItems`) is re-read through the
//    API (GET /api/v4/Transaction/{Id}) in verify() and parse() emits the sale from what the API
//    says, under `txn:<Id>`, the key the Transaction poll uses: whichever hears it first records
//    it, the other is a duplicate. A stock hint (`ProductId` + `LocationId`, the ProductStock
//    model) is re-read through ProductStock/Product/{id} and becomes an absolute level event.
// Nothing is ever taken from the body itself: a hint the API answers "no such transaction" to is
// recorded as `ignored` under a key of its own; one it could not be asked about (Epos Now
// unreachable) is refused with 503 and nothing recorded. Either way the poll applies the real sale.
import { WebhookParseError, type IncomingWebhook, type InboundEvent, type RemoteListing, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { loadSettings } from '../settings.ts';
import { EposnowAdapter } from './adapter.ts';
import { transactionToEvents, type V4Transaction } from './model.ts';
import { eposnowSettings } from './settings.ts';
import { parsePlatformJson } from '../json.ts';

/** A re-read must not hold the platform's delivery long; past this the poll applies the sale. */
const READ_TIMEOUT_MS = 5000;

type Hint = { kind: 'transaction'; id: number } | { kind: 'stock'; productId: number; locationId: number | null };

/** What the API said about a request's hint, from verify() to parse() (intake hands both the same request object). */
const confirmed = new WeakMap<IncomingWebhook, { txn?: V4Transaction | null; level?: RemoteListing | null; at: string }>();

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** What the body names; throws WebhookParseError on anything else. GUESS: one entity per delivery (the docs say "the model of the changed entity"); an array's first. */
function hintOf(raw: Buffer): Hint {
  let body: unknown;
  try {
    body = parsePlatformJson(raw.toString('utf8'));
  } catch {
    throw new WebhookParseError('Epos Now webhook body is not JSON');
  }
  const b = (Array.isArray(body) ? body[0] : body) as Record<string, unknown> | null | undefined;
  if (b && typeof b === 'object') {
    if (isId(b.Id) && Array.isArray(b.TransactionItems)) return { kind: 'transaction', id: b.Id };
    if (isId(b.ProductId) && 'ProductStockBatches' in b) return { kind: 'stock', productId: b.ProductId, locationId: isId(b.LocationId) ? b.LocationId : null };
  }
  throw new WebhookParseError('not an Epos Now V4 Transaction or ProductStock body');
}

function adapterFor(baseUrl: string, credentials: Record<string, string>): EposnowAdapter {
  return new EposnowAdapter({ channelId: 'webhook', baseUrl, credentials, settings: loadSettings(eposnowSettings, { request_timeout_ms: READ_TIMEOUT_MS }) });
}

export const eposnowWebhook: WebhookHandler = {
  urlSecret: true,

  // No signature exists to check (the URL secret was): this is where the hint is confirmed.
  async verify(req, credentials, _now, channel): Promise<VerifyResult> {
    let hint: Hint;
    try {
      hint = hintOf(req.rawBody);
    } catch {
      return { ok: true }; // parse() refuses it (400)
    }
    if (!channel) return { ok: true };
    const api = adapterFor(channel.baseUrl, credentials);
    const at = new Date().toISOString();
    try {
      if (hint.kind === 'transaction') confirmed.set(req, { txn: await api.readTransaction(hint.id), at });
      else {
        const [level] = await api.readListings([
          { externalId: String(hint.productId), externalLocationId: hint.locationId === null ? null : String(hint.locationId) },
        ]);
        confirmed.set(req, { level: level ?? null, at });
      }
    } catch {
      // Epos Now unreachable, throttled, refusing the keys: nothing recorded, the delivery is
      // answered 503 so a retrying sender tries again (GUESS: Epos Now's retry policy is
      // undocumented), and the Transaction poll applies the sale whatever happens.
      return { ok: false, reason: 'unconfirmed' };
    }
    return { ok: true };
  },

  parse(req: IncomingWebhook): InboundEvent[] {
    const hint = hintOf(req.rawBody);
    const seen = confirmed.get(req);
    const at = seen?.at ?? new Date().toISOString();
    if (hint.kind === 'transaction') {
      // Only the API's transaction moves stock; its events carry the poll's `txn:<Id>` keys.
      if (seen?.txn) return transactionToEvents(seen.txn);
      return [
        {
          kind: 'ignored',
          externalEventId: `hint:txn:${hint.id}`,
          occurredAt: at,
          reason: 'transaction not readable through the API now: the poll applies it',
        },
      ];
    }
    const where = `${hint.productId}@${hint.locationId ?? ''}`;
    if (!seen?.level)
      return [{ kind: 'ignored', externalEventId: `hint:stock:${where}:${at}`, occurredAt: at, reason: 'stock not readable through the API now' }];
    // An absolute level read now: applied against the level last seen, so a second application of
    // the same read moves nothing; each read is its own event (a level can come back to a value).
    return [{ kind: 'level', externalEventId: `stock:${where}:${at}`, occurredAt: at, level: seen.level }];
  },
};
