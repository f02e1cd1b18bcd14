// Inbound Etsy webhooks: there are none to receive. Etsy's Open API v3 documents no webhooks for
// orders, receipts or stock (channel-apis.md section 7: "Webhooks: UNCONFIRMED"; the reference has
// no subscription endpoint), so nothing Etsy sends could be verified against a documented
// signature. Sales arrive by polling getShopReceipts (adapter.ts pollEvents). Anything posted to
// /webhooks/etsy/... is therefore refused as unsigned, and a body is never turned into events.
import type { IncomingWebhook, InboundEvent, VerifyResult, WebhookHandler } from '../contract.ts';

export const etsyWebhook: WebhookHandler = {
  verify(): VerifyResult {
    return { ok: false, reason: 'missing_signature' };
  },
  parse(_req: IncomingWebhook): InboundEvent[] {
    return [];
  },
};
