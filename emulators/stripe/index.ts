// A local Stripe (test mode) for development and tests: the part of the v1 API a subscription
// business uses, hosted Checkout and portal pages, signed webhooks and a control API standing in
// for test clocks. Written from Stripe's API reference and webhook docs (invariant 9: nothing
// here comes from StockClerk's billing code, and the signature is computed by webhooks.ts).
//
//   const stripeEmu = await startStripeEmulator({ port: 0, webhook: { url, secret: 'whsec_...' }, stateDir });
//   const stripe = new Stripe('sk_test_anything', { host: '127.0.0.1', port: stripeEmu.port, protocol: 'http' });
//   stripeEmu.prices.stockclerk_starter  // 'price_...' (also: stripe.prices.list({ lookup_keys: [...] }))
//
// startStripeEmulator(options) -> Promise<StripeEmulator>
//   port       0 (default) picks a free port
//   host       '127.0.0.1' (default)
//   webhook    { url, secret } | null: one endpoint that receives every event, signed with
//              `secret` (use STRIPE_WEBHOOK_SECRET); more through POST /v1/webhook_endpoints
//   stateDir   directory for `stripe-state.json` (the account survives restarts); null = memory only
//   secretKey  when set, the only API key accepted; otherwise any sk_test_/rk_test_ key
// StripeEmulator
//   url, port                   where it listens (checkout/portal urls are under it)
//   prices                      seeded price ids by lookup key: stockclerk_starter (GBP 50.00/month),
//                               stockclerk_growth (GBP 100.00/month), product "StockClerk"
//   setWebhook(w | null)        replaces the start option's endpoint
//   drain()                     waits until every queued webhook was delivered or given up
//   close()                     stops, saves state (pending deliveries resume on the next start)
// Control API (no key, loopback only): see control.ts. Hosted pages: see pages.ts. Test clocks:
// see clocks.ts. Event sequences per action: see billing.ts.
import path from 'node:path';
import Fastify from 'fastify';
import { installApi } from './api.ts';
import { installClocks } from './clocks.ts';
import { installControl } from './control.ts';
import { StripeCore, type WebhookOption } from './core.ts';
import { parseForm } from './form.ts';
import { DEFAULT_FAULTS, installHttp, type Faults } from './http.ts';
import { installPages } from './pages.ts';

export type { WebhookOption } from './core.ts';
export { signatureHeader } from './deliveries.ts';

export interface StripeEmulatorOptions {
  port?: number;
  host?: string;
  webhook?: WebhookOption | null;
  stateDir?: string | null;
  secretKey?: string | null;
}

export interface StripeEmulator {
  url: string;
  port: number;
  prices: Readonly<Record<string, string>>;
  setWebhook(w: WebhookOption | null): void;
  drain(): Promise<void>;
  close(): Promise<void>;
}

export const STATE_FILE = 'stripe-state.json';

export async function startStripeEmulator(opts: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const core = new StripeCore({ stateFile: opts.stateDir ? path.join(opts.stateDir, STATE_FILE) : null, webhook: opts.webhook ?? null });
  const faults: Faults = { ...DEFAULT_FAULTS, failNext: [] };
  const app = Fastify({ logger: false, routerOptions: { querystringParser: (q) => parseForm(q) } });
  // JSON posts to the pages and the control API may come without a body: treat that as {}.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, (body as string).trim() === '' ? {} : (JSON.parse(body as string) as unknown));
    } catch {
      done(Object.assign(new Error('Invalid JSON body'), { statusCode: 400 }), undefined);
    }
  });
  installHttp(app, core, { secretKey: opts.secretKey ?? null, faults: () => faults });
  installControl(app, core, faults, (w) => (core.webhook = w));
  installApi(app, core);
  installClocks(app, core);
  installPages(app, core);
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  core.url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  core.rebase();
  core.resumeDeliveries();
  return {
    url: core.url,
    port,
    prices: core.prices,
    setWebhook: (w) => {
      core.webhook = w;
    },
    drain: () => core.sender.drain(),
    async close() {
      core.sender.stop();
      await app.close();
      await core.flush();
    },
  };
}
