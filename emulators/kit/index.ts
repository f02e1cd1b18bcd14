// The emulator kit's public surface. Platform emulators import from here; nothing here knows a
// platform or StockClerk's side of the wire.
export { Emulator, type EmulatorOptions, type ReceivedRequest } from './emulator.ts';
export type { Delivery } from './deliveries.ts';
export { DEFAULT_KNOBS, type Fault, type Knobs } from './knobs.ts';
export { header, sleep } from './http.ts';
export { jsonInteger } from './json.ts';
export type { AccountInput, BaseAccount, EmulatorSpec, ItemState, RecordedRequest, SaleInput, WriteRecord } from './spec.ts';
