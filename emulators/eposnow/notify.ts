// A till sale as an Epos Now webhook: the V4 Transaction JSON, POSTed unsigned to the URL the
// account was given (its device's base URL + the trigger's route path). Epos Now's webhook docs
// (beta) describe no signature and channel-apis.md section 3 says the body is the V4 model of the
// changed entity, so no signature or timestamp header is sent. GUESS: the Content-Type follows
// the device's MIME setting; JSON here.
import type { Emulator } from '../kit/index.ts';
import type { EposAccount } from './till.ts';
import type { V4Transaction } from './v4.ts';

export function sendTransaction(emu: Emulator<EposAccount>, acc: EposAccount, txn: V4Transaction): void {
  emu.sendWebhook(acc, { headers: {}, body: JSON.stringify(txn) });
}
