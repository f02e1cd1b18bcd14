// Epos Now (till / POS). Delta-only stock writes, till sales as Transactions (webhook + poll);
// connected with an API device's keys, or installed from the Epos Now App Store (install.ts).
import { defineChannel } from '../contract.ts';
import { EposnowAdapter } from './adapter.ts';
import { eposnowOAuth } from './install.ts';
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
  // Installs from the Epos Now App Store (install.ts; modelled on guesses: Epos Now documents none).
  oauth: eposnowOAuth,
  createAdapter: (conn) => new EposnowAdapter(conn),
});
