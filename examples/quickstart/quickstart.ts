// From an API key to a first received webhook. Run:
//   STOCKCLERK_URL=http://127.0.0.1:3000 STOCKCLERK_API_KEY=sck_... node examples/quickstart/quickstart.ts
// It starts a small webhook receiver, subscribes it to stock.changed, creates an item (safe to
// retry: the SDK sends an Idempotency-Key), receives 10 into stock, and waits for the signed
// webhook, which it verifies (POST /api/v1/webhook-endpoints; a server without outbound webhooks
// gets everything else done and is told so).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createStockClerk, retryingFetch, verifyWebhook } from '../../sdk/src/index.ts';

export interface QuickstartResult {
  itemId: string;
  onHand: number;
  webhook: { status: 'received'; id: string; type: string; verified: boolean } | { status: 'unavailable'; reason: string };
}

export async function quickstart(
  opts: { url: string; apiKey: string; receiverHost?: string; publicUrl?: string; timeoutMs?: number },
  log: (s: string) => void = console.log,
): Promise<QuickstartResult> {
  const sc = createStockClerk({ baseUrl: opts.url, apiKey: opts.apiKey });

  // 1. Who am I, and where is my stock?
  const locations = await sc.GET('/api/v1/locations');
  if (!locations.data) throw new Error(`the API key was refused: ${locations.response.status} ${JSON.stringify(locations.error)}`);
  const location = locations.data.data[0]!;
  log(`1. key accepted; first location ${location.name} (${location.id})`);

  // 2. A webhook receiver, subscribed to stock changes.
  let secret = '';
  let resolveHook: (v: { id: string; type: string; verified: boolean }) => void = () => {};
  const received = new Promise<{ id: string; type: string; verified: boolean }>((r) => (resolveHook = r));
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks); // verify the raw bytes, before JSON.parse
      const check = verifyWebhook(secret, req.headers, raw);
      res.writeHead(check.ok ? 204 : 400).end();
      const body = JSON.parse(raw.toString('utf8') || '{}') as { type?: string };
      resolveHook({ id: String(req.headers['webhook-id']), type: body.type ?? '?', verified: check.ok });
    });
  });
  await new Promise<void>((r) => receiver.listen(0, opts.receiverHost ?? '127.0.0.1', r));
  const hookUrl = opts.publicUrl ?? `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks`;
  try {
    // Not in the generated types until the outbound webhooks feature lands: a plain (retrying) fetch.
    const subscribe = await retryingFetch()(
      new Request(`${opts.url.replace(/\/$/, '')}/api/v1/webhook-endpoints`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: hookUrl, event_types: ['stock.changed'] }),
      }),
    );
    const sub = (await subscribe.json().catch(() => null)) as { id?: string; secret?: string } | null;
    const subscribed = subscribe.status === 201 && typeof sub?.secret === 'string';
    if (subscribed) {
      secret = sub!.secret!;
      log(`2. webhook endpoint ${sub!.id} -> ${hookUrl} (secret ${secret.slice(0, 10)}...)`);
    } else {
      log(`2. this server has no outbound webhooks yet (POST /api/v1/webhook-endpoints answered ${subscribe.status}); carrying on without`);
    }

    // 3. An item (created once, however often this line is retried) and stock for it.
    const sku = `QUICKSTART-${Date.now()}`;
    const item = await sc.POST('/api/v1/items', { body: { sku, name: 'Quickstart mug', low_stock_threshold: 2 } });
    if (!item.data) throw new Error(`creating the item failed: ${JSON.stringify(item.error)}`);
    log(`3. item ${item.data.sku} (${item.data.id})`);
    const adj = await sc.POST('/api/v1/adjustments', {
      body: { item_id: item.data.id, location_id: location.id, qty_delta: 10, reason: 'receipt', note: 'quickstart' },
    });
    if (!adj.data) throw new Error(`receiving stock failed: ${JSON.stringify(adj.error)}`);
    log(`4. received 10: on hand ${adj.data.level.on_hand}`);

    if (!subscribed)
      return {
        itemId: item.data.id,
        onHand: adj.data.level.on_hand,
        webhook: { status: 'unavailable', reason: `webhook-endpoints answered ${subscribe.status}` },
      };
    // 4. The webhook.
    const hook = await Promise.race([
      received,
      new Promise<never>((_r, rej) => setTimeout(() => rej(new Error('no webhook arrived in time')), opts.timeoutMs ?? 60_000)),
    ]);
    log(`5. webhook ${hook.id}: ${hook.type}, signature ${hook.verified ? 'verified' : 'INVALID'}`);
    return { itemId: item.data.id, onHand: adj.data.level.on_hand, webhook: { status: 'received', ...hook } };
  } finally {
    receiver.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.STOCKCLERK_URL ?? 'http://127.0.0.1:3000';
  const apiKey = process.env.STOCKCLERK_API_KEY;
  if (!apiKey) {
    console.error('Set STOCKCLERK_API_KEY (see examples/quickstart/README.md)');
    process.exit(1);
  }
  const r = await quickstart({ url, apiKey, publicUrl: process.env.WEBHOOK_PUBLIC_URL, receiverHost: process.env.WEBHOOK_HOST });
  process.exit(r.webhook.status === 'received' && r.webhook.verified ? 0 : 2);
}
