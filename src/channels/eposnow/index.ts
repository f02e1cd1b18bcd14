// Epos Now (till / POS). Delta-only stock writes, till sales as Transactions (webhook + poll).
import { defineChannel } from '../contract.ts';
import { EposnowAdapter } from './adapter.ts';
import { EPOSNOW_CAPABILITIES } from './model.ts';
import { eposnowCredentials, eposnowSettings } from './settings.ts';
import { eposnowWebhook } from './webhook.ts';

export const eposnowChannel = defineChannel({
  type: 'eposnow',
  label: 'Epos Now',
  defaultBaseUrl: 'https://api.eposnowhq.com',
  credentials: eposnowCredentials,
  settings: eposnowSettings,
  connectSettings: [],
  capabilities: EPOSNOW_CAPABILITIES,
  webhook: eposnowWebhook,
  createAdapter: (conn) => new EposnowAdapter(conn),
});
