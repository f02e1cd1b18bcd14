// Inbound Epos Now webhooks: a till sale arrives as the V4 Transaction JSON.
//
// GUESS (the whole signing scheme): Epos Now's webhook page (beta) describes no signature at all
// (channel-apis.md §3). The StockClerk seed says its Epos Now receiver checks HMAC-SHA256, so we
// define the scheme the emulator uses and this verifier expects:
//   X-Epos-Timestamp: <unix seconds>
//   X-Epos-Signature: base64(HMAC-SHA256(webhook_secret, `${timestamp}.${rawBody}`))
// Signing the timestamp with the body lets us reject replays older than 5 minutes. Header names
// are ours too. Because the scheme is unconfirmed, the Watcher's pollEvents on Transactions is
// the safety net; both paths emit the same `txn:<Id>` keys (model.ts).
import { WebhookParseError, type IncomingWebhook, type InboundEvent, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { headerValue, hmacSha256, safeEqual } from '../signing.ts';
import { transactionToEvents } from './model.ts';
import { parsePlatformJson } from '../json.ts';

export const SIGNATURE_HEADER = 'x-epos-signature';
export const TIMESTAMP_HEADER = 'x-epos-timestamp';
/** Allowed clock distance either way between the sender's timestamp and ours. */
export const TOLERANCE_SECONDS = 300;

export function signEposWebhook(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return hmacSha256(secret, Buffer.concat([Buffer.from(`${timestamp}.`), Buffer.from(rawBody)]), 'base64');
}

export const eposnowWebhook: WebhookHandler = {
  verify(req: IncomingWebhook, credentials: Record<string, string>, now: Date): VerifyResult {
    const signature = headerValue(req.headers, SIGNATURE_HEADER);
    const timestamp = headerValue(req.headers, TIMESTAMP_HEADER);
    // The timestamp is part of what is signed: without it there is nothing complete to check.
    if (!signature || !timestamp) return { ok: false, reason: 'missing_signature' };
    const secret = credentials.webhook_secret;
    if (!secret || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_signature' };
    // Signature before freshness: a forged request is reported as forged, not as merely old.
    if (!safeEqual(signEposWebhook(secret, Number(timestamp), req.rawBody), signature.trim())) {
      return { ok: false, reason: 'bad_signature' };
    }
    if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return { ok: false, reason: 'stale_timestamp' };
    return { ok: true };
  },

  parse(req: IncomingWebhook): InboundEvent[] {
    let body: unknown;
    try {
      body = parsePlatformJson(req.rawBody.toString('utf8'));
    } catch {
      throw new WebhookParseError('Epos Now webhook body is not JSON');
    }
    // GUESS: one Transaction per delivery; an array is accepted in case deliveries are batched.
    return Array.isArray(body) ? body.flatMap((t) => transactionToEvents(t)) : transactionToEvents(body);
  },
};
