// Deliveroo's Order Events webhook, signed as Deliveroo documents it (channel-apis.md section 6,
// "Webhooks"): X-Deliveroo-Hmac-Sha256 = lower-case hex HMAC-SHA256(key = the webhook secret,
// message = sequence guid + " " + raw body), the guid in X-Deliveroo-Sequence-Guid.
import { createHmac, randomUUID } from 'node:crypto';
import type { Emulator } from '../kit/index.ts';
import type { DeliverooAccount, DeliverooOrder } from './site.ts';

export function deliverooHmac(secret: string, guid: string, body: string): string {
  return createHmac('sha256', secret).update(`${guid} ${body}`, 'utf8').digest('hex');
}

// The sequence guid is made once per event, so a retry or duplicate is the same signed request;
// the platform does not say otherwise.
export function sendOrderEvent(emu: Emulator<DeliverooAccount>, acc: DeliverooAccount, event: string, order: DeliverooOrder): void {
  const body = JSON.stringify({ event, body: { order } });
  // GUESS: the doc's example guid is numeric ("1499765769"); a UUID is as opaque to a receiver.
  const guid = randomUUID();
  emu.sendWebhook(acc, {
    body,
    headers: {
      'X-Deliveroo-Sequence-Guid': guid,
      'X-Deliveroo-Hmac-Sha256': deliverooHmac(acc.webhookSecret ?? '', guid, body),
      'x-deliveroo-payload-type': `event/${event}`,
      'x-deliveroo-webhook-version': '1',
    },
  });
}
