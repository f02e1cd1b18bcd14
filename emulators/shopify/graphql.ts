// A deliberately small GraphQL reader and executor for the Shopify emulator. No graphql library
// is installed, and the emulator only has to answer the documents our adapter (and a curious
// developer with curl) sends, so this covers one operation per document: fields, aliases,
// arguments (literals and $variables), directives, inline fragments (`... on Type`) and nested
// selection sets. Fragment definitions, block strings and type checking of variables are not
// supported (a parse error says so). This is an emulator simplification, not a platform guess:
// Shopify itself runs a full GraphQL server.

export type Value = unknown;

export interface FieldNode {
  kind: 'field';
  alias: string | null;
  name: string;
  args: Record<string, Value>;
  directives: Record<string, Record<string, Value>>;
  selections: SelectionNode[] | null;
}
export interface FragmentNode {
  kind: 'fragment';
  on: string | null;
  selections: SelectionNode[];
}
export type SelectionNode = FieldNode | FragmentNode;

export interface OperationNode {
  type: 'query' | 'mutation';
  selections: SelectionNode[];
}

export class GqlError extends Error {
  readonly extensions: Record<string, unknown>;
  readonly path: Array<string | number> | undefined;
  constructor(message: string, extensions: Record<string, unknown> = {}, path?: Array<string | number>) {
    super(message);
    this.extensions = extensions;
    this.path = path;
  }
}

const TOKEN = /\s+|,|#[^\n]*|(\.\.\.|[!$&():=@[\]{}|])|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([_A-Za-z][_0-9A-Za-z]*)|("(?:[^"\\\n]|\\.)*")/y;

type Tok = { t: 'punct' | 'num' | 'name' | 'str'; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (!m) throw new GqlError(`Parse error on "${src.slice(at, at + 10)}" at offset ${at}`, { code: 'parseError' });
    if (m[1]) out.push({ t: 'punct', v: m[1] });
    else if (m[2]) out.push({ t: 'num', v: m[2] });
    else if (m[3]) out.push({ t: 'name', v: m[3] });
    else if (m[4]) out.push({ t: 'str', v: JSON.parse(m[4]) as string });
  }
  return out;
}

/** Parses `src` and resolves every $variable against `variables` on the way. */
export function parseOperation(src: string, variables: Record<string, unknown>, operationName?: string | null): OperationNode {
  const toks = tokenize(src);
  let i = 0;
  const peek = (): Tok | undefined => toks[i];
  const fail = (what: string): never => {
    throw new GqlError(`Parse error: expected ${what} near "${peek()?.v ?? 'end of document'}"`, { code: 'parseError' });
  };
  const eat = (v: string): void => {
    if (peek()?.v !== v) fail(`"${v}"`);
    i++;
  };
  const name = (): string => {
    const tok = peek();
    if (tok?.t !== 'name') return fail('a name');
    i++;
    return tok.v;
  };
  const skipBalanced = (open: string, close: string): void => {
    let depth = 0;
    do {
      const v = toks[i++]?.v;
      if (v === undefined) fail(close);
      if (v === open) depth++;
      else if (v === close) depth--;
    } while (depth > 0);
  };
  const value = (): Value => {
    const tok = peek();
    if (!tok) return fail('a value');
    if (tok.v === '$') {
      i++;
      return variables[name()] ?? null;
    }
    if (tok.v === '[') {
      i++;
      const list: Value[] = [];
      while (peek()?.v !== ']') list.push(value());
      i++;
      return list;
    }
    if (tok.v === '{') {
      i++;
      const obj: Record<string, Value> = {};
      while (peek()?.v !== '}') {
        const k = name();
        eat(':');
        obj[k] = value();
      }
      i++;
      return obj;
    }
    i++;
    if (tok.t === 'num') return Number(tok.v);
    if (tok.t === 'str') return tok.v;
    if (tok.t === 'name') return tok.v === 'true' ? true : tok.v === 'false' ? false : tok.v === 'null' ? null : tok.v;
    return fail('a value');
  };
  const args = (): Record<string, Value> => {
    const out: Record<string, Value> = {};
    if (peek()?.v !== '(') return out;
    i++;
    while (peek()?.v !== ')') {
      const k = name();
      eat(':');
      out[k] = value();
    }
    i++;
    return out;
  };
  const directives = (): Record<string, Record<string, Value>> => {
    const out: Record<string, Record<string, Value>> = {};
    while (peek()?.v === '@') {
      i++;
      const n = name();
      out[n] = args();
    }
    return out;
  };
  const selectionSet = (): SelectionNode[] => {
    eat('{');
    const sels: SelectionNode[] = [];
    while (peek()?.v !== '}') {
      if (!peek()) fail('"}"');
      if (peek()?.v === '...') {
        i++;
        if (peek()?.v !== 'on') throw new GqlError('Fragment spreads are not supported by this emulator', { code: 'parseError' });
        i++;
        const on = name();
        directives();
        sels.push({ kind: 'fragment', on, selections: selectionSet() });
        continue;
      }
      let alias: string | null = null;
      let n = name();
      if (peek()?.v === ':') {
        i++;
        alias = n;
        n = name();
      }
      const a = args();
      const d = directives();
      const s = peek()?.v === '{' ? selectionSet() : null;
      sels.push({ kind: 'field', alias, name: n, args: a, directives: d, selections: s });
    }
    i++;
    return sels;
  };

  const ops: Array<{ name: string | null; op: OperationNode }> = [];
  while (i < toks.length) {
    if (peek()?.v === '{') {
      ops.push({ name: null, op: { type: 'query', selections: selectionSet() } });
      continue;
    }
    const kw = name();
    if (kw !== 'query' && kw !== 'mutation') throw new GqlError(`Unsupported definition "${kw}" in this emulator`, { code: 'parseError' });
    const opName = peek()?.t === 'name' ? name() : null;
    if (peek()?.v === '(') skipBalanced('(', ')'); // variable definitions: values come from `variables`
    directives();
    ops.push({ name: opName, op: { type: kw, selections: selectionSet() } });
  }
  const chosen = operationName ? ops.find((o) => o.name === operationName) : ops.length === 1 ? ops[0] : undefined;
  if (!chosen)
    throw new GqlError(operationName ? `Unknown operation named "${operationName}"` : 'An operation name is required when a document holds several', {});
  return chosen.op;
}

// ---- execution ----------------------------------------------------------------------------

/** A GraphQL object: plain values, or functions of (args, field) for fields that take arguments. */
export type GqlObject = { __typename: string; [field: string]: unknown };
export type Resolver = (args: Record<string, Value>, field: FieldNode, ctx: ExecContext, path: Array<string | number>) => unknown;

/** Returned by a resolver that has already projected its own result (idempotency replays). */
export class Projected {
  readonly value: unknown;
  constructor(value: unknown) {
    this.value = value;
  }
}

/** Shopify-style static cost: objects 1, connections 2 + first x node cost, list fields x list length, mutations 10. */
export function requestedCost(sels: SelectionNode[], op: OperationNode['type'], root = true): number {
  let cost = 0;
  for (const s of sels) {
    if (s.kind === 'fragment') {
      cost += requestedCost(s.selections, op, false);
      continue;
    }
    if (root && op === 'mutation') {
      cost += 10;
      continue;
    }
    if (!s.selections || s.name === 'pageInfo') continue;
    const inner = requestedCost(s.selections, op, false);
    const size = typeof s.args.first === 'number' ? s.args.first : typeof s.args.last === 'number' ? s.args.last : null;
    if (size !== null)
      cost += 2 + size * inner; // connection: its nodes/edges wrapper counts once per node
    else cost += listLength(s.args) * (1 + inner);
  }
  return cost;
}

// GUESS: Shopify sizes list fields by their list argument (nodes(ids:), quantities(names:)); we
// use the first array argument's length, 1 when there is none.
function listLength(args: Record<string, Value>): number {
  for (const v of Object.values(args)) if (Array.isArray(v)) return v.length;
  return 1;
}

export interface ExecContext {
  /** Objects actually returned (Shopify's actualQueryCost counts what came back). */
  cost: number;
  mutation: boolean;
}

export function execute(root: GqlObject, op: OperationNode, ctx: ExecContext): Record<string, unknown> {
  return project(root, op.selections, [], ctx, true);
}

function project(obj: GqlObject, sels: SelectionNode[], path: Array<string | number>, ctx: ExecContext, isRoot = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of sels) {
    if (s.kind === 'fragment') {
      if (s.on === null || s.on === obj.__typename) Object.assign(out, project(obj, s.selections, path, ctx, isRoot));
      continue;
    }
    const key = s.alias ?? s.name;
    const here = [...path, key];
    if (s.name === '__typename') {
      out[key] = obj.__typename;
      continue;
    }
    if (!(s.name in obj)) {
      throw new GqlError(
        `Field '${s.name}' doesn't exist on type '${obj.__typename}'`,
        { code: 'undefinedField', typeName: obj.__typename, fieldName: s.name },
        here,
      );
    }
    let v = obj[s.name];
    if (typeof v === 'function') v = (v as Resolver)(s.args, s, ctx, here);
    if (isRoot && ctx.mutation) ctx.cost += 10;
    if (v instanceof Projected) {
      out[key] = v.value;
      continue;
    }
    out[key] = s.selections ? projectValue(v, s.selections, here, ctx) : v;
  }
  return out;
}

/** Projects a resolved value through a selection set (resolvers use it to store what they answered). */
export function projectValue(v: unknown, sels: SelectionNode[], path: Array<string | number>, ctx: ExecContext): unknown {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map((el, idx) => projectValue(el, sels, [...path, idx], ctx));
  const obj = v as GqlObject;
  if (!ctx.mutation && obj.__typename !== 'PageInfo') ctx.cost += obj.__typename.endsWith('Connection') ? 2 : 1;
  return project(obj, sels, path, ctx);
}
