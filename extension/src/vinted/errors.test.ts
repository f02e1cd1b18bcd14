import { describe, expect, it } from 'vitest';
import { OriginRefused } from '../origin-guard.ts';
import { DEFAULT_RETRY_AFTER_MS, failureOf, failureOfThrown, retryAfterMs } from './errors.ts';

const answer = (status: number, body: unknown = null, retryAfter: string | null = null, type = 'basic') => ({ status, body, retryAfter, type });
const kindOf = (status: number, body?: unknown, retryAfter?: string | null) => failureOf(answer(status, body, retryAfter ?? null), 'x')?.toError();

describe("Vinted's answers as the protocol's error kinds", () => {
  it('a success is no failure', () => {
    expect(failureOf(answer(200, { item: {} }), 'x')).toBeNull();
    expect(failureOf(answer(204), 'x')).toBeNull();
  });

  it('429 is throttled, with Retry-After in seconds or as a date, or a default wait', () => {
    const now = Date.parse('2026-12-06T12:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7_000);
    expect(retryAfterMs('Sun, 06 Dec 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('nonsense', now)).toBeNull();
    expect(kindOf(429, { url: 'https://geo.captcha-delivery.com/captcha/?x' }, '12')).toMatchObject({ kind: 'throttled', retry_after_ms: 12_000 });
    expect(kindOf(429)).toMatchObject({ kind: 'throttled', retry_after_ms: DEFAULT_RETRY_AFTER_MS });
    // DataDome's block page with a captcha URL: throttled too (the seller solves it in a tab).
    expect(kindOf(403, { url: 'https://geo.captcha-delivery.com/captcha/?x' })).toMatchObject({ kind: 'throttled' });
  });

  it('401 (code 100, no session; code 106, CSRF) and a redirect to the login page are session', () => {
    expect(kindOf(401, { code: 100, message: 'invalid_authentication_token' })).toMatchObject({ kind: 'session' });
    expect(kindOf(401, { code: 106, message: 'invalid_csrf_token' })!.message).toMatch(/CSRF/);
    expect(failureOf(answer(0, null, null, 'opaqueredirect'), 'x')!.kind).toBe('session');
  });

  it('404 is not_found; other 4xx are rejected with what Vinted said; 5xx is network', () => {
    expect(kindOf(404, { code: 104, message: 'not_found' })).toMatchObject({ kind: 'not_found' });
    const r = kindOf(422, { code: 99, message: 'Validation failed', errors: [{ field: 'title', value: 'is too short' }] })!;
    expect(r.kind).toBe('rejected');
    expect(r.message).toContain('title: is too short');
    expect(kindOf(400)).toMatchObject({ kind: 'rejected' });
    expect(kindOf(403, { message: 'forbidden' })).toMatchObject({ kind: 'rejected' });
    expect(kindOf(500)).toMatchObject({ kind: 'network' });
    expect(kindOf(503, '<html>')).toMatchObject({ kind: 'network' });
  });

  it('a fetch that throws is network; a URL the origin guard refused is rejected (no retry can change it)', () => {
    expect(failureOfThrown(new TypeError('Failed to fetch'), 'x').kind).toBe('network');
    expect(failureOfThrown(new OriginRefused('https://evil.example/'), 'x').kind).toBe('rejected');
  });
});
