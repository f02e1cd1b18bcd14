import { describe, expect, it } from 'vitest';
import { fillPlaceholders, pick, runPlan } from './catalog.ts';
import type { PlannedRequest } from './contract.ts';

describe('catalog plans', () => {
  it('fills {{name}} at any depth and leaves single braces and unknown names alone', () => {
    const v = fillPlaceholders({ url: '/l/{{id}}/x', body: { a: ['{{id}}', '{id}', '{{other}}'], n: 3 } }, { id: '42' });
    expect(v).toEqual({ url: '/l/42/x', body: { a: ['42', '{id}', '{{other}}'], n: 3 } });
  });

  it('picks dotted paths, numbers as strings, nothing for objects or absent keys', () => {
    expect(pick({ responses: [{ offerId: 7 }] }, 'responses.0.offerId')).toBe('7');
    expect(pick({ a: { b: 1 } }, 'a')).toBeUndefined();
    expect(pick(null, 'a')).toBeUndefined();
  });

  it('sends in order, capturing from each answer for the next, and resumes after the steps done', async () => {
    const sent: PlannedRequest[] = [];
    const answers: unknown[] = [{ listing_id: 9 }, {}, {}];
    const side = { send: async (r: PlannedRequest) => (sent.push(r), answers[sent.length - 1]) };
    const plan: PlannedRequest[] = [
      { method: 'POST', url: 'http://x/listings', body: { title: 'T {x}' }, capture: { listing_id: 'listing_id' }, label: 'create' },
      { method: 'PUT', url: 'http://x/listings/{{listing_id}}/inventory', body: { id: '{{listing_id}}' }, label: 'inventory' },
    ];
    const captured = await runPlan(side, plan);
    expect(captured).toEqual({ listing_id: '9' });
    expect(sent.map((r) => r.url)).toEqual(['http://x/listings', 'http://x/listings/9/inventory']);
    expect(sent[0]!.body).toEqual({ title: 'T {x}' });
    expect(sent[1]!.body).toEqual({ id: '9' });
    sent.length = 0;
    await runPlan(side, plan, { from: 1, captured: { listing_id: '9' } });
    expect(sent.map((r) => r.url)).toEqual(['http://x/listings/9/inventory']);
  });

  it('refuses to send a request whose placeholder nothing captured, and an answer missing a captured path', async () => {
    const side = { send: async () => ({}) };
    await expect(runPlan(side, [{ method: 'GET', url: 'http://x/{{nope}}', label: 'read' }])).rejects.toThrow(/no value for \{\{nope\}\}/);
    await expect(runPlan(side, [{ method: 'POST', url: 'http://x', capture: { id: 'id' }, label: 'create' }])).rejects.toThrow(/has no id/);
  });
});
