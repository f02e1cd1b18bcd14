// Shopify's webhooks: the REST resource JSON of the topic, with Shopify's headers, signed as
// Shopify documents it (channel-apis.md section 1, "Webhooks"): X-Shopify-Hmac-Sha256 =
// base64(HMAC-SHA256(key = the app's client secret, message = the raw body bytes)).
import { createHmac, randomUUID } from 'node:crypto';
import { jsonInteger, type Emulator } from '../kit/index.ts';
import { API_VERSION, LOCATION_NUM, type Item, type ShopifyAccount } from './account.ts';

export function shopifyHmac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('base64');
}

export function sendTopic(emu: Emulator<ShopifyAccount>, acc: ShopifyAccount, topic: string, payload: unknown): void {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    'X-Shopify-Topic': topic,
    'X-Shopify-Shop-Domain': acc.domain,
    'X-Shopify-API-Version': API_VERSION,
    'X-Shopify-Webhook-Id': randomUUID(),
    'X-Shopify-Event-Id': randomUUID(),
    'X-Shopify-Triggered-At': new Date().toISOString(),
  };
  if (acc.webhookSecret) headers['X-Shopify-Hmac-Sha256'] = shopifyHmac(acc.webhookSecret, body);
  emu.sendWebhook(acc, { headers, body });
}

export function levelWebhook(emu: Emulator<ShopifyAccount>, acc: ShopifyAccount, item: Item): void {
  sendTopic(emu, acc, 'inventory_levels/update', {
    inventory_item_id: jsonInteger(item.num),
    location_id: LOCATION_NUM,
    available: item.available,
    updated_at: item.updatedAt,
    admin_graphql_api_id: `gid://shopify/InventoryLevel/${item.levelNum}?inventory_item_id=${item.num}`,
  });
}
