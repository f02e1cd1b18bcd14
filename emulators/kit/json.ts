// Platforms write 64-bit ids as JSON numbers (Shopify's sample order id is 820982911946154508,
// above 2^53). A JS number cannot hold such an id, so emulators keep ids as decimal strings and
// write them with JSON.rawJSON (V8's JSON.parse source text access proposal, in Node since 21):
// JSON.stringify then emits the digits as a bare number, exactly as the platform would.
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** A decimal id string written into JSON as a number, digit for digit. */
export function jsonInteger(digits: string): unknown {
  if (!/^-?\d+$/.test(digits)) throw new Error(`not an integer: ${digits}`);
  return rawJSON(digits);
}
