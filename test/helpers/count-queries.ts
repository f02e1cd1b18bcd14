// A connection that counts the statements sent through it: a service test asserts a read costs a
// fixed number of round trips (a list page with its lines must not cost one query per row).
import type { Q } from '../../src/services/scope.ts';

export function countQueries(q: Q): { q: Q; count: () => number; reset: () => void } {
  let n = 0;
  const query = (...args: unknown[]) => {
    n++;
    return (q.query as (...a: unknown[]) => unknown).apply(q, args);
  };
  return { q: { query } as unknown as Q, count: () => n, reset: () => (n = 0) };
}
