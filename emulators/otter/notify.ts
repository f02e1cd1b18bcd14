// Otter's webhooks, sent as the reference describes them: an EventNotification body
// {eventId, eventTime, eventType, metadata: {storeId, applicationId, resourceId, resourceHref,
// payload}}, signed with the application's webhook secret. The reference says every webhook
// carries HMAC-SHA256 in the header `X-HMAC-SHA256`, and names HMAC-SHA1 as the legacy scheme.
// GUESS: the digest is base64 over the raw body (the Webhook Authentication Guide that would say
// hex or base64 is not in any corpus here). GUESS: the legacy SHA-1 signature travels as
// `Authorization: MAC <base64 digest>`, the form the reference's example request shows.
import { createHmac, randomUUID } from 'node:crypto';
import type { Emulator } from '../kit/index.ts';
import type { OtterOrder, OtterStore } from './store.ts';

export function otterSignature(secret: string, body: string, algorithm: 'sha256' | 'sha1' = 'sha256'): string {
  return createHmac(algorithm, secret).update(body, 'utf8').digest('base64');
}

/** One event, made once: a duplicate or retried delivery is the same signed request with the same eventId. */
export function sendOrderEvent(emu: Emulator<OtterStore>, acc: OtterStore, eventType: string, order: OtterOrder): void {
  const body = JSON.stringify({
    eventId: randomUUID(),
    eventTime: new Date().toISOString(),
    eventType,
    metadata: {
      storeId: acc.id,
      applicationId: acc.credentials.client_id ?? '',
      resourceId: order.externalIdentifiers.id,
      resourceHref: `${emu.url}/manager/order/v1/sources/${acc.source}/orders/${order.externalIdentifiers.id}`,
      payload: order,
    },
  });
  const secret = acc.webhookSecret ?? '';
  const headers: Record<string, string> =
    acc.signing === 'hmac-sha1' ? { authorization: `MAC ${otterSignature(secret, body, 'sha1')}` } : { 'X-HMAC-SHA256': otterSignature(secret, body) };
  emu.sendWebhook(acc, { body, headers });
}
