// eBay's REST error body: {errors: [{errorId, domain, subdomain?, category, message, longMessage?,
// parameters?: [{name, value}]}]} (the Error / ErrorParameter types of every Sell API document).
import type { FastifyReply } from 'fastify';

export interface EbayErrorDetail {
  errorId: number;
  domain: string;
  subdomain?: string;
  category: 'REQUEST' | 'APPLICATION' | 'BUSINESS';
  message: string;
  longMessage?: string;
  parameters?: Array<{ name: string; value: string }>;
}

/** A thrown answer: routes throw it, the error handler (index.ts) sends it. */
export class EbayError extends Error {
  readonly statusCode: number;
  readonly errors: EbayErrorDetail[];
  readonly headers: Record<string, string>;
  constructor(statusCode: number, errors: EbayErrorDetail[], headers: Record<string, string> = {}) {
    super(errors[0]?.message ?? 'error');
    this.statusCode = statusCode;
    this.errors = errors;
    this.headers = headers;
  }
}

const params = (p: Record<string, string>) => Object.entries(p).map(([name, value]) => ({ name, value }));

/** An Inventory API error. GUESS: subdomain "Selling" is what live answers carry; the documents name only the domain. */
export function inv(errorId: number, message: string, p: Record<string, string> = {}, category: EbayErrorDetail['category'] = 'REQUEST'): EbayErrorDetail {
  return { errorId, domain: 'API_INVENTORY', subdomain: 'Selling', category, message, ...(Object.keys(p).length ? { parameters: params(p) } : {}) };
}

export function invError(status: number, errorId: number, message: string, p: Record<string, string> = {}): EbayError {
  return new EbayError(status, [inv(errorId, message, p)]);
}

// The Inventory API errors this emulator answers with (ids and wording from the v1.13 document).
export const notFound = () => invError(404, 25710, "We didn't find the resource/entity you are requesting. Please verify the request");
export const skuUnknown = (sku: string) => invError(400, 25702, `${sku} could not be found or is not available in the system.`, { skuValue: sku });
export const invalidValue = (fieldName: string, info = '') => invError(400, 25709, `Invalid value for ${fieldName}. ${info}`.trim(), { fieldName });
export const missing = (fieldName: string, info = '') => invError(400, 25017, `${fieldName} is missing. ${info}`.trim(), { fieldName });
export const userError = (info: string, p: Record<string, string> = {}) => invError(400, 25002, `A user error has occurred. ${info}`, p);
export const offerUnavailable = (info: string) => invError(400, 25713, `This Offer is not available : ${info}.`);
// GUESS: which errorId answers a revision past the daily 250 is not documented; 25019 "Cannot revise listing" is the documented id closest to it.
export const revisionLimit = (listingId: string) =>
  invError(400, 25019, `Cannot revise listing. Listing ${listingId} reached 250 revisions today; it can be revised again next calendar day.`, { listingId });

export function fulfillmentError(status: number, errorId: number, message: string): EbayError {
  return new EbayError(status, [{ errorId, domain: 'API_FULFILLMENT', category: status >= 500 ? 'APPLICATION' : 'REQUEST', message }]);
}

// Errors the API gateway answers for every REST API (not per-API documents): invalid/expired token,
// missing scope, too many requests. Wording as eBay returns them (seen in public client issues:
// davidtsadler/ebay-sdk-examples#42 for 1001, hendt/ebay-api#148 for 1100).
export const invalidToken = () =>
  new EbayError(401, [
    {
      errorId: 1001,
      domain: 'OAuth',
      category: 'REQUEST',
      message: 'Invalid access token',
      longMessage: 'Invalid access token. Check the value of the Authorization HTTP request header.',
    },
  ]);
export const accessDenied = () =>
  new EbayError(403, [
    { errorId: 1100, domain: 'ACCESS', category: 'REQUEST', message: 'Access denied', longMessage: 'Insufficient permissions to fulfill the request.' },
  ]);
// GUESS: errorId 2001 / ACCESS / "Too many requests" is what third-party eBay clients match on; eBay's
// call-limits page documents the limits, not the body. No Retry-After is documented; we send one.
export const tooManyRequests = (retryAfterSec: number, longMessage = 'The request limit has been reached for the resource.') =>
  new EbayError(429, [{ errorId: 2001, domain: 'ACCESS', category: 'REQUEST', message: 'Too many requests', longMessage }], {
    'retry-after': String(retryAfterSec),
  });

export function sendEbayError(reply: FastifyReply, e: EbayError): FastifyReply {
  for (const [k, v] of Object.entries(e.headers)) void reply.header(k, v);
  return reply.code(e.statusCode).send({ errors: e.errors });
}
