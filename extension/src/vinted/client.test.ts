// The Vinted client's pace: writes spaced by the anti-bot gap (concurrent jobs included), and a
// short "slow down" waited out in place so a job keeps what it did (a publish does not upload its
// photos again). Against a fake fetch that records when each call came.
import { describe, expect, it } from 'vitest';
import { JobFailure } from '../protocol.ts';
import { VintedClient } from './client.ts';

const ORIGIN = 'https://www.vinted.co.uk';
const HOME = `<html><head><meta name="csrf-token" content="tok"></head></html>`;

function fake(answer: (path: string, n: number) => [number, unknown, Record<string, string>?]) {
  const writes: Array<{ path: string; at: number }> = [];
  const fetch = async (url: string) => {
    const path = new URL(url).pathname;
    if (path === '/') return new Response(HOME, { headers: { 'content-type': 'text/html' } });
    writes.push({ path, at: Date.now() });
    const [status, body, headers] = answer(path, writes.length);
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
  };
  return { writes, fetch };
}
const WRITE = { method: 'PUT' as const, path: '/api/v2/items/1/is_hidden', what: 'hiding', json: { is_hidden: true } };

describe('VintedClient pacing', () => {
  it('spaces writes by the gap, also when several jobs write at once', async () => {
    const { writes, fetch } = fake(() => [200, { item: { id: 1 } }]);
    const client = new VintedClient(ORIGIN, fetch, { mutationGapMs: 150 });
    await Promise.all([client.send(WRITE), client.send(WRITE), client.send(WRITE)]);
    expect(writes).toHaveLength(3);
    const gaps = writes.slice(1).map((w, i) => w.at - writes[i]!.at);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(140);
  });

  it('waits out a short 429 in place and goes on; a long one fails the job as throttled', async () => {
    const short = fake((_p, n) => (n === 1 ? [429, { url: 'https://geo.captcha-delivery.com/captcha/' }, { 'retry-after': '1' }] : [200, { item: { id: 1 } }]));
    const t0 = Date.now();
    await expect(new VintedClient(ORIGIN, short.fetch, { mutationGapMs: 0 }).send(WRITE)).resolves.toEqual({ item: { id: 1 } });
    expect(short.writes).toHaveLength(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);

    const long = fake(() => [429, { url: 'https://geo.captcha-delivery.com/captcha/' }, { 'retry-after': '30' }]);
    const err = await new VintedClient(ORIGIN, long.fetch, { mutationGapMs: 0 }).send(WRITE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobFailure);
    expect((err as JobFailure).kind).toBe('throttled');
    expect((err as JobFailure).retryAfterMs).toBe(30_000);
    expect(long.writes).toHaveLength(1);
  });
});
