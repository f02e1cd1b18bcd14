// A till sale as an Epos Now webhook: the V4 Transaction JSON, POSTed to the device's URL.
//
// GUESS (the signature, the whole of it): Epos Now's webhook docs (beta) describe no signature;
// channel-apis.md section 3 says the platform posts the V4 model JSON UNSIGNED. StockClerk's
// verifier today requires a timestamp and an HMAC (issue #15 is to change that side), so until
// then this emulator adds what that verifier accepts, computed here on its own:
//   X-Epos-Timestamp: <unix seconds>
//   X-Epos-Signature: base64(HMAC-SHA256(webhook secret, `${timestamp}.${rawBody}`))
// Without a webhook secret on the account the post goes out unsigned, as the platform's would.
import { createHmac } from 'node:crypto';
import type { Emulator } from '../kit/index.ts';
import type { EposAccount } from './till.ts';
import type { V4Transaction } from './v4.ts';

export function sendTransaction(emu: Emulator<EposAccount>, acc: EposAccount, txn: V4Transaction): void {
  const body = JSON.stringify(txn);
  const headers: Record<string, string> = {};
  if (acc.webhookSecret) {
    const ts = Math.floor(Date.now() / 1000);
    headers['x-epos-timestamp'] = String(ts); // GUESS: header name (see above)
    headers['x-epos-signature'] = createHmac('sha256', acc.webhookSecret).update(`${ts}.`).update(body, 'utf8').digest('base64'); // GUESS (see above)
  }
  emu.sendWebhook(acc, { headers, body });
}
