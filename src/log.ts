// JSON logs (pino). Secrets are redacted by path so a credential can never reach a log line.
import pino from 'pino';

export const REDACT = [
  'req.headers.authorization',
  'req.headers["x-shopify-access-token"]',
  '*.password',
  '*.credentials',
  '*.api_secret',
  '*.access_token',
  '*.client_secret',
  '*.webhook_secret',
  '*.webhook_url_secret',
  '*.token',
];

export function createLogger(level = 'info', base: Record<string, unknown> = {}) {
  return pino({ level, base: { ...base }, redact: { paths: REDACT, censor: '[redacted]' } });
}

export type Logger = pino.Logger;
