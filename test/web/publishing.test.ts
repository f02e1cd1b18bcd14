// The publish panel's pure decisions (web/src/publishing-rules.ts): which action each publication state
// offers next, and a 422 cannot_publish shown one refusing channel a line.
import { describe, expect, it } from 'vitest';
import { actionsFor, detailLines } from '../../web/src/publishing-rules.ts';

describe('the next actions per state', () => {
  it('offers what the API can do from each state, and nothing while one is running', () => {
    expect(actionsFor(null)).toEqual(['publish']);
    expect(actionsFor('draft')).toEqual(['publish']);
    expect(actionsFor('error')).toEqual(['publish']);
    expect(actionsFor('live')).toEqual(['update', 'delist']);
    expect(actionsFor('delisted')).toEqual(['relist']);
    expect(actionsFor('publishing')).toEqual([]);
  });
});

describe('error lines', () => {
  it('lists each refusing channel of a 422 under the message', () => {
    const err = Object.assign(new Error('2 channels cannot take this product as it stands'), {
      details: [
        { path: 'channel_ids', message: 'Etsy (ch_1): Etsy needs at least one image' },
        { path: 'channel_ids', message: 'eBay (ch_2): no price' },
      ],
    });
    expect(detailLines(err)).toEqual([
      '2 channels cannot take this product as it stands',
      'Etsy (ch_1): Etsy needs at least one image',
      'eBay (ch_2): no price',
    ]);
  });

  it('has no lines for an error without detail messages (its sentence is shown instead)', () => {
    expect(detailLines(Object.assign(new Error('The job is done'), { details: null }))).toBeNull();
    expect(detailLines(Object.assign(new Error('x'), { details: [{ path: 'a' }] }))).toBeNull();
    expect(detailLines(new Error('offline'))).toBeNull();
    expect(detailLines(null)).toBeNull();
  });
});
