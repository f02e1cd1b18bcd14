// Small helpers the eBay routes share: which token a call came with (and whether it may call
// this method), request headers and bodies the Inventory API insists on, and absolute hrefs.
import type { FastifyRequest } from 'fastify';
import { header } from '../kit/index.ts';
import { accessDenied, inv, invalidValue, EbayError } from './errors.ts';
import type { IssuedToken } from './platform.ts';

type Authed = FastifyRequest & { ebayToken?: IssuedToken };

export function setToken(req: FastifyRequest, t: IssuedToken): void {
  (req as Authed).ebayToken = t;
}

export function tokenOf(req: FastifyRequest): IssuedToken | undefined {
  return (req as Authed).ebayToken;
}

/** A user access token holding one of `scopes` (eBay answers 403 / 1100 otherwise). */
export function requireUser(req: FastifyRequest, scopes: string[]): void {
  const t = tokenOf(req);
  if (!t || t.kind !== 'user' || !t.scopes.some((s) => scopes.includes(s))) throw accessDenied();
}

/** An application access token (client credentials grant), as getPublicKey documents. */
export function requireApp(req: FastifyRequest): void {
  const t = tokenOf(req);
  if (!t || t.kind !== 'application') throw accessDenied();
}

/** Documented as required on createOrReplaceInventoryItem/-Group, createOffer and updateOffer. */
export function requireContentLanguage(req: FastifyRequest): string {
  const lang = header(req, 'content-language');
  // GUESS: the error for a missing/invalid Content-Language; 25709 "Invalid value for {fieldName}" is the documented id that fits.
  if (!lang || !/^[a-z]{2}-[A-Z]{2}$/.test(lang)) throw invalidValue('header Content-Language', 'Use a locale such as en-US.');
  return lang;
}

/** The JSON object a write carries (the JSON parser only runs for application/json). */
export function jsonBody(req: FastifyRequest): Record<string, unknown> {
  // Documented: writes carry Content-Type: application/json. GUESS: 415 and errorId 25709 for any other type.
  if (!/^application\/json\b/i.test(header(req, 'content-type') ?? '')) {
    throw new EbayError(415, [inv(25709, 'Invalid value for header Content-Type. Use application/json.', { fieldName: 'Content-Type' })]);
  }
  const b = req.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) throw invalidValue('request body', 'A JSON object is required.');
  return b as Record<string, unknown>;
}

/** eBay's hrefs are absolute; the emulator answers with its own origin. */
export function origin(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? '127.0.0.1'}`;
}

export function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** limit/offset query values: integers within bounds, or the given error. */
export function intParam(raw: unknown, dflt: number, min: number, max: number, err: () => EbayError): number {
  if (raw === undefined || raw === '') return dflt;
  const s = String(raw);
  if (!/^\d+$/.test(s)) throw err();
  const n = Number(s);
  if (n < min || n > max) throw err();
  return n;
}
