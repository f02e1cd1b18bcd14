// Stripe's error responses: `{error: {type, code?, message, param?, doc_url?}}` with the HTTP
// status Stripe documents for each (docs.stripe.com/api/errors): 400 invalid parameters,
// 401 no or bad key, 402 card declined, 404 no such object, 429 too many requests, 500 Stripe's fault.
export interface StripeErrorBody {
  type: 'invalid_request_error' | 'api_error' | 'card_error' | 'idempotency_error';
  code?: string;
  decline_code?: string;
  message: string;
  param?: string;
  doc_url?: string;
}

/** Thrown by handlers; the error handler in api.ts turns it into Stripe's answer. */
export class StripeApiError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;
  constructor(status: number, body: StripeErrorBody) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

const doc = (code: string) => `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;

export function missingParam(param: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    code: 'parameter_missing',
    message: `Missing required param: ${param}.`,
    param,
    doc_url: doc('parameter_missing'),
  });
}

export function invalidParam(param: string, message: string, code = 'parameter_invalid_empty'): StripeApiError {
  return new StripeApiError(400, { type: 'invalid_request_error', code, message, param, doc_url: doc(code) });
}

/** `No such customer: 'cus_x'` — a missing object named in the path answers 404, one named in a body param answers 400. */
export function noSuch(kind: string, id: string, param = 'id', status = 404): StripeApiError {
  return new StripeApiError(status, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: `No such ${kind}: '${id}'`,
    param,
    doc_url: doc('resource_missing'),
  });
}

export function invalidRequest(message: string, param?: string): StripeApiError {
  return new StripeApiError(400, { type: 'invalid_request_error', message, ...(param ? { param } : {}) });
}

export const NO_KEY: StripeErrorBody = {
  type: 'invalid_request_error',
  message:
    "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
};

/** Stripe shows the key's prefix and last four characters only. */
export function badKey(key: string): StripeErrorBody {
  const shown = key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(Math.min(20, key.length - 12))}${key.slice(-4)}` : '*'.repeat(key.length);
  return { type: 'invalid_request_error', message: `Invalid API Key provided: ${shown}` };
}

// Since 2015-09-08 a rate-limited request is 429 without a `rate_limit` code (Stripe changelog).
export const RATE_LIMITED: StripeErrorBody = {
  type: 'invalid_request_error',
  message: 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.',
};

// GUESS: the wording of Stripe's 500 body; the type `api_error` is documented.
export const SERVER_ERROR: StripeErrorBody = {
  type: 'api_error',
  message: 'An unknown error occurred. Please try again later.',
};

export function idempotencyMismatch(key: string): StripeErrorBody {
  return {
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  };
}

export const CARD_DECLINED: StripeErrorBody = {
  type: 'card_error',
  code: 'card_declined',
  decline_code: 'generic_decline',
  message: 'Your card was declined.',
  doc_url: doc('card_declined'),
};
