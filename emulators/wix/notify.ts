// Wix webhooks: one standardised event wrapped the way Wix does (channel-apis.md section 2,
// "Webhooks"): JWT{data: json{eventType, instanceId, data: json(event), identity: json}, iat, exp},
// the JWT itself being the whole POST body.
import { randomUUID } from 'node:crypto';
import type { Emulator } from '../kit/index.ts';
import { itemJson, type WixAccount, type WixItem } from './items.ts';
import { generateWixKeyPair, jwtRs256 } from './rs256.ts';

export const INVENTORY_FQDN = 'wix.stores.catalog.v3.inventory_item';

export function sendEvent(emu: Emulator<WixAccount>, acc: WixAccount, eventType: string, event: Record<string, unknown>): void {
  if (!acc.webhookUrl) return; // nothing subscribed: skip the RSA signing
  const key = acc.webhookSecret || (acc.fallbackPrivateKey ??= generateWixKeyPair().privateKey);
  const iat = Math.floor(Date.now() / 1000);
  const envelope = {
    eventType,
    instanceId: acc.instanceId,
    data: JSON.stringify(event),
    identity: JSON.stringify({ identityType: 'APP' }),
  };
  // GUESS: Wix's exp window is not documented; one hour covers the emulator's retry schedule.
  const body = jwtRs256(key, { data: JSON.stringify(envelope), iat, exp: iat + 3600 });
  // GUESS: content type of Wix webhook posts is not documented; the body is plain JWT text.
  emu.sendWebhook(acc, { headers: { 'content-type': 'text/plain; charset=utf-8' }, body });
}

export function sendItemUpdated(emu: Emulator<WixAccount>, acc: WixAccount, it: WixItem): void {
  sendEvent(emu, acc, `${INVENTORY_FQDN}_updated`, {
    id: randomUUID(),
    entityFqdn: INVENTORY_FQDN,
    slug: 'updated',
    entityId: it.id,
    updatedEvent: { currentEntityAsJson: JSON.stringify(itemJson(it)) },
    eventTime: it.updatedDate,
  });
}
