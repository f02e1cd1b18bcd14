// Inbound Epos Now webhooks. Epos Now's webhook page (beta) describes no signature: the device
// POSTs the V4 model JSON of the changed entity to its base URL + the trigger's route path
// (channel-apis.md §3). So nothing in the request proves who sent it:
//  - it is authenticated by the channel's secret webhook URL (`urlSecret`: intake checks it before
//    verify(); src/channels/url-secret.ts), and
//  - its body is only a hint (`pollOnHint`): parse() checks that it is a V4 Transaction or
//    ProductStock body and returns nothing; intake makes the channel's Transaction poll run soon
//    (src/engine/poll-hints.ts). The poll reads GET /api/v4/Transaction through the API and emits
//    each sale under `txn:<Id>`, so a burst of hints is one API call, a forged body moves nothing,
//    and a sale the poll has already seen is a duplicate.
import { WebhookParseError, type IncomingWebhook, type InboundEvent, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { parsePlatformJson } from '../json.ts';

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** Throws WebhookParseError unless the body is a V4 Transaction or ProductStock model. GUESS: one entity per delivery (the docs say "the model of the changed entity"); an array's first. */
function checkHint(raw: Buffer): void {
  let body: unknown;
  try {
    body = parsePlatformJson(raw.toString('utf8'));
  } catch {
    throw new WebhookParseError('Epos Now webhook body is not JSON');
  }
  const b = (Array.isArray(body) ? body[0] : body) as Record<string, unknown> | null | undefined;
  if (b && typeof b === 'object') {
    if (isId(b.Id) && Array.isArray(b.TransactionItems)) return;
    if (isId(b.ProductId) && 'ProductStockBatches' in b) return;
  }
  throw new WebhookParseError('not an Epos Now V4 Transaction or ProductStock body');
}

/**
 * GUESS (Epos Now documents no App Store notifications): removing StockClerk in the App Store
 * posts `{"EventType": "AppUninstalled", "AppId", "MerchantId"}` to the webhook URL the app was
 * given, unsigned like every Epos Now webhook. The channel's secret URL is what authenticates it;
 * the worst a forged one could do is disconnect the channel, and the device keys are revoked on
 * an uninstall anyway (the next call gets 401 and disconnects it too).
 */
function isUninstall(req: IncomingWebhook): boolean {
  let body: unknown;
  try {
    body = parsePlatformJson(req.rawBody.toString('utf8'));
  } catch {
    return false;
  }
  return !!body && typeof body === 'object' && !Array.isArray(body) && (body as Record<string, unknown>).EventType === 'AppUninstalled';
}

export const eposnowWebhook: WebhookHandler = {
  urlSecret: true,
  pollOnHint: true,
  isUninstall,

  // No signature exists to check: the URL secret was checked by intake.
  verify(): VerifyResult {
    return { ok: true };
  },

  parse(req: IncomingWebhook): InboundEvent[] {
    checkHint(req.rawBody);
    return [];
  },
};
