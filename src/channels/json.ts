// Platform JSON, read with every id exact. Shopify's REST ids are 64-bit (its own sample order id
// 820982911946154508 is above 2^53) and other platforms document int64 ids too, while JSON.parse
// rounds any integer beyond Number.MAX_SAFE_INTEGER to the nearest double: a rounded id names a
// different order, line or listing. V8's JSON.parse source text access (the reviver's third
// argument, in Node since 21) hands back the digits as sent, so such an integer is kept as its
// decimal string; every other value (quantities, prices, safe ids) is what JSON.parse gives.
import { z } from 'zod';

interface ReviverContext {
  source?: string;
}
type SourceReviver = (this: unknown, key: string, value: unknown, context?: ReviverContext) => unknown;

const INTEGER = /^-?\d+$/;
const LONG_DIGITS = /\d{16}/;

function keepBigIntegers(_key: string, value: unknown, context?: ReviverContext): unknown {
  if (typeof value !== 'number' || Number.isSafeInteger(value)) return value;
  const src = context?.source;
  // 1e21 or 12345678901234567890.0 are not integer literals: no platform writes ids that way.
  return src !== undefined && INTEGER.test(src) ? src : value;
}

/** JSON.parse for bytes from a platform: integers beyond 2^53 come back as exact decimal strings. */
export function parsePlatformJson(text: string): unknown {
  // An integer past 2^53 has at least 16 digits; a body without such a run needs no reviver.
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  return JSON.parse(text, keepBigIntegers as SourceReviver as (key: string, value: unknown) => unknown);
}

/**
 * A platform's numeric id as a string, exactly as sent: a JSON number (parsed by parsePlatformJson,
 * so a 64-bit one is already a string) or a string of digits. Never z.number() for an id: zod's
 * int() refuses anything past 2^53, and a plain number would have been rounded already.
 */
export const numericId = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform(String);

interface RawJson {
  readonly rawJSON: string;
}
const rawJSON = (JSON as unknown as { rawJSON(text: string): RawJson }).rawJSON;

/**
 * A platform id (decimal digits, as parsePlatformJson or numericId keep it) for a JSON request body:
 * a JSON number with exactly those digits. Safe integers are plain numbers; larger ones are written
 * raw (JSON.rawJSON, Node 21+), since a JS number would round them to another id.
 */
export function exactInt(id: string | number): number | RawJson {
  const s = String(id);
  if (!/^\d{1,20}$/.test(s)) throw new Error(`not a platform id: ${s.slice(0, 40)}`);
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : rawJSON(s);
}
