// What connecting a WooCommerce store takes: a REST API key pair (WooCommerce > Settings > Advanced
// > REST API, Read/Write) and the secret of the store's order webhooks. The store's own URL is the
// channel's base URL (every store has its own host: no default).
import { z } from 'zod';
import { pageSize, requestTimeoutMs, secret } from '../fields.ts';
import { channelSettings } from '../settings.ts';

export const woocommerceCredentials = z.strictObject({
  consumer_key: secret('Consumer key (ck_...)'),
  consumer_secret: secret('Consumer secret (cs_...)'),
  webhook_secret: secret('Webhook secret (order.created / order.updated webhooks)'),
});

export const woocommerceSettings = channelSettings({
  // per_page is 1..100 on every WooCommerce collection.
  page_size: pageSize(100, 100),
  request_timeout_ms: requestTimeoutMs(15_000),
});

export type WoocommerceSettings = z.output<typeof woocommerceSettings>;
