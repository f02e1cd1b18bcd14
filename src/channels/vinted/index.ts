// Vinted (marketplace, no seller API): reached through StockClerk's browser extension in the
// seller's own logged-in session (docs/extension-protocol.md, extension/). Jobs queue in Postgres
// until the extension is connected; stock changes show, hide, mark sold or delete the item; sales
// are read from the seller's sold orders; products publish as single items (catalog.ts).
import { defineChannel, type IncomingWebhook, type InboundEvent, type VerifyResult } from '../contract.ts';
import { VintedAdapter } from './adapter.ts';
import { VINTED_CAPABILITIES } from './model.ts';
import { vintedCredentials, vintedSettings } from './settings.ts';

export { VintedAdapter } from './adapter.ts';
export { VintedCatalog } from './catalog.ts';

export const vintedChannel = defineChannel({
  type: 'vinted',
  label: 'Vinted',
  // Sellers sell on their country's site; the extension may call only this origin.
  defaultBaseUrl: 'https://www.vinted.co.uk',
  credentials: vintedCredentials,
  settings: vintedSettings,
  connectSettings: ['on_zero'],
  capabilities: VINTED_CAPABILITIES,
  // Vinted sends nothing to anyone: what reaches StockClerk comes through the extension's socket.
  webhook: {
    verify: (): VerifyResult => ({ ok: false, reason: 'missing_signature' }),
    parse: (_req: IncomingWebhook): InboundEvent[] => [],
  },
  createAdapter: (conn) => new VintedAdapter(conn),
});
