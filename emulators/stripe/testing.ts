// Test helpers: a local webhook receiver that keeps each delivery's raw bytes and signature
// header (what a verifier needs), and can be told to fail the first deliveries.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  body: string;
  signature: string;
  type: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Answer 500 to the next `n` deliveries. */
  failNext(n: number): void;
  /** Waits until `pred` holds over what arrived (polls; fails after `ms`). */
  waitFor(pred: (r: Received[]) => boolean, ms?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  let failing = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failing > 0) {
        failing--;
        res.writeHead(500).end('not now');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ body, signature: String(req.headers['stripe-signature'] ?? ''), type: (JSON.parse(body) as { type: string }).type, at: Date.now() });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    received,
    failNext: (n) => {
      failing = n;
    },
    async waitFor(pred, ms = 15_000) {
      const end = Date.now() + ms;
      while (!pred(received)) {
        if (Date.now() > end) throw new Error(`timed out; received: ${received.map((r) => r.type).join(', ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return received;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
