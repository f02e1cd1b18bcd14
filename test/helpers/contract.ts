// Contract checking: every /api/v1 exchange a test makes is checked against the OpenAPI document
// the server itself serves. The response's status must be documented for the operation, its body
// must match that status's schema, X-Request-Id must be there (and equal the error's request_id);
// a 2xx answer means the request was valid, so the request body and query must match too.
// An unknown route fails, except the server's own structured "No route" 404.
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

type Json = Record<string, any>;

const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as unknown as new (opts: Json) => {
  compile(schema: Json): ValidateFunction;
  errorsText(errors: unknown): string;
};
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (ajv: unknown) => void;

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  params: number;
  op: Json;
}

export interface Exchange {
  method: string;
  url: string;
  requestBody?: string | null;
  status: number;
  headers: Headers;
  responseText: string;
}

/** The document with every local `$ref` (#/components/...) replaced by what it points at. */
function inlineRefs(node: unknown, root: Json, depth = 0): unknown {
  if (depth > 50) throw new Error('$ref cycle in the OpenAPI document');
  if (Array.isArray(node)) return node.map((n) => inlineRefs(n, root, depth));
  if (!node || typeof node !== 'object') return node;
  const ref = (node as Json).$ref;
  if (typeof ref === 'string') {
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
    const target = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((at, k) => (at as Json | undefined)?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], root);
    if (target === undefined) throw new Error(`dangling $ref ${ref}`);
    return inlineRefs(target, root, depth + 1);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inlineRefs(v, root, depth)]));
}

export class Contract {
  private readonly ops: Operation[] = [];
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly ajvQuery = new Ajv2020({ strict: false, allErrors: true, coerceTypes: true });
  private readonly cache = new Map<object, ValidateFunction>();
  readonly doc: Json;

  constructor(raw: Json) {
    const doc = inlineRefs(raw, raw) as Json;
    this.doc = doc;
    addFormats(this.ajv);
    addFormats(this.ajvQuery);
    for (const [template, item] of Object.entries(doc.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        const params = (template.match(/\{/g) ?? []).length;
        const regex = new RegExp(
          '^' +
            template
              .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
              .replace(/\\?\{[^}]+\\?\}/g, '[^/]+')
              .replace(/\{[^}]+\}/g, '[^/]+') +
            '$',
        );
        this.ops.push({ method: method.toUpperCase(), template, regex, params, op: op as Json });
      }
    }
    // Literal segments win over parameters (/listings/auto-match before /listings/{id}).
    this.ops.sort((a, b) => a.params - b.params);
  }

  private validator(schema: Json, query = false): ValidateFunction {
    let v = this.cache.get(schema);
    if (!v) {
      v = (query ? this.ajvQuery : this.ajv).compile(schema);
      this.cache.set(schema, v);
    }
    return v;
  }

  find(method: string, pathname: string): Operation | undefined {
    return this.ops.find((o) => o.method === method && o.regex.test(pathname));
  }

  /** The problems with one exchange; empty when it keeps the contract. */
  check(x: Exchange): string[] {
    const url = new URL(x.url);
    const method = x.method.toUpperCase();
    const what = `${method} ${url.pathname} -> ${x.status}`;
    const problems: string[] = [];
    let body: unknown = null;
    // A documented non-JSON answer (a CSV download) is checked for its status, media type and headers.
    const media = (x.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const json = media === '' || media.endsWith('json');
    if (x.responseText !== '' && json) {
      try {
        body = JSON.parse(x.responseText);
      } catch {
        return [`${what}: response is not JSON: ${x.responseText.slice(0, 200)}`];
      }
    }
    const requestId = x.headers.get('x-request-id');
    if (!requestId) problems.push(`${what}: no X-Request-Id header`);
    const err = (body as { error?: { request_id?: unknown } } | null)?.error;
    if (x.status >= 400 && err && err.request_id !== requestId)
      problems.push(`${what}: error.request_id ${String(err.request_id)} is not the X-Request-Id ${requestId}`);
    const found = this.find(method === 'HEAD' ? 'GET' : method, url.pathname);
    if (!found) {
      const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
      if (x.status === 404 && e?.code === 'not_found' && e.message?.startsWith('No route')) return problems;
      return [...problems, `${what}: no such operation in the OpenAPI document`];
    }
    const op = found.op;
    const res = this.response(op, x.status);
    if (!res) return [...problems, `${what}: status ${x.status} is not documented for ${method} ${found.template}`];
    const schema = res.content?.['application/json']?.schema as Json | undefined;
    if (!json && x.responseText !== '') {
      if (!res.content?.[media]) problems.push(`${what}: answered ${media}, which is not documented for ${method} ${found.template}`);
    } else if (method !== 'HEAD') {
      if (schema) {
        const v = this.validator(schema);
        if (!v(body)) problems.push(`${what}: body does not match the documented schema: ${this.ajv.errorsText(v.errors)} in ${x.responseText.slice(0, 300)}`);
      } else if (x.responseText !== '' && x.status !== 101) {
        problems.push(`${what}: documented without a body, got ${x.responseText.slice(0, 100)}`);
      }
    }
    for (const [name, h] of Object.entries((res.headers ?? {}) as Json)) {
      if (h.required && !x.headers.get(name)) problems.push(`${what}: documented header ${name} missing`);
    }
    if (x.status >= 200 && x.status < 300) problems.push(...this.checkRequest(what, op, url, x.requestBody));
    return problems;
  }

  /** The status's own response, else its range's (`4XX`) if that covers it (`x-statuses`), else `default`. */
  private response(op: Json, status: number): Json | undefined {
    const range = op.responses?.[`${Math.floor(status / 100)}XX`] as Json | undefined;
    const covers = range && (!Array.isArray(range['x-statuses']) || range['x-statuses'].includes(status));
    return op.responses?.[String(status)] ?? (covers ? range : undefined) ?? op.responses?.default;
  }

  private checkRequest(what: string, op: Json, url: URL, requestBody: string | null | undefined): string[] {
    const problems: string[] = [];
    const params = (op.parameters ?? []) as Json[];
    const query: Record<string, unknown> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    for (const p of params.filter((p) => p.in === 'query')) {
      if (!(p.name in query)) {
        if (p.required) problems.push(`${what}: accepted without the required query parameter ${p.name}`);
        continue;
      }
      const v = this.validator(p.schema, true);
      if (!v(query[p.name])) problems.push(`${what}: accepted query ${p.name}=${String(query[p.name])} the document refuses: ${this.ajv.errorsText(v.errors)}`);
    }
    const known = new Set(params.filter((p) => p.in === 'query').map((p) => p.name));
    for (const k of Object.keys(query)) if (!known.has(k)) problems.push(`${what}: accepted an undocumented query parameter ${k}`);
    const rb = op.requestBody?.content?.['application/json']?.schema as Json | undefined;
    if (rb && requestBody) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(requestBody);
      } catch {
        return [...problems, `${what}: accepted a body that is not JSON`];
      }
      const v = this.validator(rb);
      if (!v(parsed)) problems.push(`${what}: accepted a body the document refuses: ${this.ajv.errorsText(v.errors)}`);
    }
    return problems;
  }
}
