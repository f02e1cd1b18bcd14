// What connecting Vinted takes: nothing secret. Vinted has no seller API; the seller's own browser
// session does the work through our extension (docs/extension-protocol.md), paired by an extension
// token issued on the channel's page. The channel's base_url is the Vinted site the seller sells
// on (https://www.vinted.co.uk, .fr, ...): the one marketplace origin the extension may call.
import { z } from 'zod';
import { requestTimeoutMs } from '../fields.ts';
import { CATALOG_SETTINGS, channelSettings } from '../settings.ts';

export const vintedCredentials = z.strictObject({});

export const vintedSettings = channelSettings({
  ...CATALOG_SETTINGS,
  on_zero: z
    .enum(['hide', 'mark_sold', 'delete'])
    .meta({
      title: 'When it sells out elsewhere',
      description: 'What happens to the Vinted listing when its stock reaches 0: hide it (shown again when stock returns), mark it sold, or delete it',
    })
    .default('hide'),
  condition_id: z
    .number()
    .int()
    .min(1)
    .max(10)
    .meta({ title: 'Condition', description: "Vinted's status_id for new listings (GUESS: 1 new with tags ... 6 satisfactory); absent = 2 (very good)" })
    .optional(),
  request_timeout_ms: requestTimeoutMs(10_000),
});

export type VintedSettings = z.output<typeof vintedSettings>;
