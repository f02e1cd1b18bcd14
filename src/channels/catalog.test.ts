import { describe, expect, it } from 'vitest';
import { AWAITING, awaitingMark, awaitingOf, fillPlaceholders, pick, runPlan } from './catalog.ts';
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

  describe('a create whose answer was lost', () => {
    const plan: PlannedRequest[] = [
      { method: 'POST', url: 'http://x/listings', body: { title: 'T' }, capture: { listing_id: 'listing_id' }, label: 'create', recoverable: true },
      { method: 'PUT', url: 'http://x/listings/{{listing_id}}/inventory', label: 'inventory' },
    ];
    const since = new Date('2026-12-06T10:00:00.000Z');

    it('is marked before it goes out, and the mark reads back', async () => {
      const marked: number[] = [];
      const side = { send: async () => ({ listing_id: 9 }) };
      await runPlan(side, plan, { beforeSend: async (i) => void marked.push(i) });
      expect(marked).toEqual([0]);
      expect(awaitingOf({ [AWAITING]: awaitingMark({ index: 0, since }) })).toEqual({ index: 0, since });
      expect(awaitingOf({ [AWAITING]: 'junk' })).toBeNull();
    });

    it('is looked for before being sent again: what the lost attempt made stands for the answer', async () => {
      const sent: string[] = [];
      const side = { send: async (r: PlannedRequest) => (sent.push(r.url), { listing_id: 1 }) };
      const looked: Array<[number, Date]> = [];
      const steps: boolean[] = [];
      const captured = await runPlan(side, plan, {
        awaiting: { index: 0, since },
        recover: async (i, _r, at) => (looked.push([i, at]), { answer: { listing_id: 7 } }),
        onStep: async (s) => void steps.push(Boolean(s.recovered)),
      });
      expect(looked).toEqual([[0, since]]);
      expect(captured).toEqual({ listing_id: '7' });
      expect(sent).toEqual(['http://x/listings/7/inventory']);
      expect(steps).toEqual([true, false]);
    });

    it('is sent again when nothing was made, after taking a second call from the budget', async () => {
      const sent: string[] = [];
      const side = { send: async (r: PlannedRequest) => (sent.push(r.url), { listing_id: 8 }) };
      const budget: number[] = [];
      const captured = await runPlan(side, plan, {
        awaiting: { index: 0, since },
        recover: async () => null,
        beforeStep: async (i) => void budget.push(i),
      });
      expect(captured).toEqual({ listing_id: '8' });
      expect(sent).toEqual(['http://x/listings', 'http://x/listings/8/inventory']);
      expect(budget).toEqual([0, 0, 1]);
    });
  });
});
