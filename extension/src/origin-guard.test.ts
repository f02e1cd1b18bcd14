import { describe, expect, it } from 'vitest';
import { guardedFetch, isAllowed, OriginRefused, socketUrl } from './origin-guard.ts';

const SC = 'http://127.0.0.1:8080';
const VINTED = 'https://www.vinted.co.uk';

describe('the origin guard', () => {
  it('allows exactly the paired StockClerk and the welcome marketplace origin: scheme, host and port', () => {
    expect(isAllowed(`${SC}/media/a.png`, [SC, VINTED])).toBe(true);
    expect(isAllowed(`${VINTED}/api/v2/users/current`, [SC, VINTED])).toBe(true);
    expect(isAllowed('https://www.vinted.co.uk:443/x', [SC, VINTED])).toBe(true); // the default port is the same origin
    for (const url of [
      'http://127.0.0.1:8081/media/a.png', // another port on the same host
      'https://127.0.0.1:8080/', // another scheme
      'https://www.vinted.fr/api/v2/users/current', // another Vinted site than the paired one
      'https://vinted.co.uk/', // no www
      'https://www.vinted.co.uk.evil.example/',
      'http://127.0.0.1:8080@evil.example/', // userinfo that looks like the host
      'data:text/plain,hi',
      'javascript:alert(1)',
      'not a url',
      '',
    ])
      expect(isAllowed(url, [SC, VINTED]), url).toBe(false);
  });

  it('allows nothing before pairing, and no marketplace before the welcome names one', () => {
    expect(isAllowed(`${VINTED}/`, [])).toBe(false);
    expect(isAllowed(`${VINTED}/`, [SC, null])).toBe(false);
    expect(isAllowed(`${VINTED}/`, [undefined, 'garbage'])).toBe(false);
  });

  it('refuses before any request leaves, reads the allowed list at call time, and sends cookies to the allowed ones', async () => {
    const calls: Array<{ url: string; init?: RequestInit }> = [];
    let allowed: string[] = [SC];
    const f = guardedFetch(
      () => allowed,
      async (url, init) => {
        calls.push({ url, init });
        return new Response('ok');
      },
    );
    await expect(f(`${VINTED}/api/v2/users/current`)).rejects.toBeInstanceOf(OriginRefused);
    expect(calls).toHaveLength(0);
    allowed = [SC, VINTED];
    await f(`${VINTED}/api/v2/users/current`);
    expect(calls[0]).toMatchObject({ url: `${VINTED}/api/v2/users/current`, init: { credentials: 'include', redirect: 'manual' } });
    await f(`${SC}/media/x.png`, { credentials: 'omit' });
    expect(calls[1]!.init!.credentials).toBe('omit');
    allowed = [];
    await expect(f(`${SC}/media/x.png`)).rejects.toThrow(/neither the paired StockClerk nor the paired marketplace/);
  });

  it("derives the socket URL from StockClerk's address", () => {
    expect(socketUrl('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/api/v1/extension/socket');
    expect(socketUrl('https://stock.example.com/')).toBe('wss://stock.example.com/api/v1/extension/socket');
    expect(() => socketUrl('ftp://x.example')).toThrow(/http/);
  });
});
