// Bodies nested deeper than any request of this API needs are refused before anything looks at
// them. Code that walks a body by recursion (hashing it for an Idempotency-Key, serialising it into
// jsonb, a validator) would otherwise overflow the stack on a few thousand levels and answer 500
// (invariant 7: bad input is a 4xx). One hook on the root app, so every route is covered.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.ts';

/** The deepest nesting of objects and arrays a body may have (`{"a": 1}` is 1 deep). */
export const MAX_BODY_DEPTH = 64;

const isContainer = (v: unknown): v is object =>
  Array.isArray(v) || (v !== null && typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v)));

/** Whether `v` nests objects and arrays more than `limit` deep; counted with a stack, not recursion. */
export function nestedDeeperThan(v: unknown, limit: number): boolean {
  const stack: Array<[object, number]> = isContainer(v) ? [[v, 1]] : [];
  while (stack.length) {
    const [x, depth] = stack.pop()!;
    if (depth > limit) return true;
    for (const c of Array.isArray(x) ? x : Object.values(x)) if (isContainer(c)) stack.push([c, depth + 1]);
  }
  return false;
}

export const tooDeep = () =>
  new ApiError(400, 'validation_failed', `The body nests objects or arrays more than ${MAX_BODY_DEPTH} levels deep`, [
    { path: '', message: `nested more than ${MAX_BODY_DEPTH} levels deep` },
  ]);

export function installBodyDepthLimit(app: FastifyInstance): void {
  // preValidation: after the body is parsed, before validation and every preHandler (idempotency).
  app.addHook('preValidation', async (req) => {
    if (nestedDeeperThan(req.body, MAX_BODY_DEPTH)) throw tooDeep();
  });
}
