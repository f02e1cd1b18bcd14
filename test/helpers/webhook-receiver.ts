// A real HTTP receiver on 127.0.0.1 for outbound webhook tests: records every request (raw body,
// headers, arrival time) and answers with whatever status the test's responder picks.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: { type: string; timestamp: string; data: any };
}

export interface Receiver {
  url: string;
  got: Received[];
  respond: (r: Received, n: number) => number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const rec: Receiver = { url: '', got: [], respond: () => 200, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let json: Received['json'];
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        json = { type: '?', timestamp: '', data: null };
      }
      const r: Received = { at: Date.now(), headers: req.headers, body, json };
      rec.got.push(r);
      res.writeHead(rec.respond(r, rec.got.length)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  rec.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  rec.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return rec;
}
