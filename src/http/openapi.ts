// The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with.
// Each /api/v1 route carries its description in `config.openapi` (see `doc()`); the app refuses to
// start with an undocumented /api/v1 route, so the document cannot fall behind the routes.
// zod 4's own z.toJSONSchema (draft 2020-12, the dialect of OpenAPI 3.1) does the conversion:
// request schemas in their input form, response schemas in their output form (strict objects).
import type { FastifyInstance } from 'fastify';
import { z, type ZodType } from 'zod';
import type { Permission } from '../domain/permissions.ts';
import { ApiError } from './errors.ts';

/** What an operation asks of its caller (src/domain/permissions.ts); an API key's scopes are read, write and admin. */
export type Scope = Permission;

export interface RouteDoc {
  summary: string;
  /** Groups the operation; also decides which document it is in (DOCUMENT_OF_TAG). */
  tag: string;
  description?: string;
  /** Scope an API key needs; default read for GET, write otherwise. 'none' = no credential. */
  scope?: Scope | 'none';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: ZodType;
  /** The body may be left out altogether (default: required). */
  bodyOptional?: boolean;
  /** Success and route-specific error statuses; null = no body. The common errors are added. */
  responses: Record<number, ZodType | null>;
  /** PATCH/DELETE that need If-Match (428 without, 412 on a stale one). */
  ifMatch?: boolean;
  /** The 2xx response is one resource: it carries an ETag. */
  etag?: boolean;
  /** The 2xx response names the created resource in a Location header (202 for jobs). */
  location?: boolean;
  /** Media type of the 2xx body when it is not JSON (a CSV download: text/csv). */
  contentType?: string;
  /** The read replica may serve it (src/http/replica-read.ts): the answer names its source. */
  replica?: boolean;
}

/**
 * The API is described by several complete OpenAPI 3.1 documents, one per audience, so that each
 * stays small enough for the tools that take a document whole (a shell argument is capped at
 * 128 KiB) and the integrators' one holds only what an API key can use. The names and paths are
 * stable: clients and the checks outside this repository fetch them.
 */
export const DOCUMENTS = {
  /** Integrators: everything an API key can call (the core resources, channels, webhooks, jobs, reports ...). */
  api: { path: '/api/v1/openapi.json', title: 'StockClerk API', label: 'Integrators (API keys)' },
  /** The dashboard's session surface: sign-in, the user's account, the team, billing, the dashboard's summaries. */
  account: { path: '/api/v1/openapi/account.json', title: 'StockClerk account API', label: 'Accounts and dashboard (sessions)' },
  /** The service's operators' console (/api/v1/admin/...): super admins only. */
  operators: { path: '/api/v1/openapi/operators.json', title: 'StockClerk operators API', label: 'Operators (super admins)' },
  /** The catalog and marketplaces (issue 13): products, images, overrides, publishing, conflicts, sync rules. */
  catalog: { path: '/api/v1/openapi/catalog.json', title: 'StockClerk catalog API', label: 'Catalog and marketplaces' },
} as const;
export type DocumentName = keyof typeof DOCUMENTS;
export const DOCUMENT_NAMES = Object.keys(DOCUMENTS) as DocumentName[];

/**
 * Which document a route is in, by its tag: the ONE place that decides it. A tag not named here
 * is the integrators' (`api`). The dashboard's tags are here although an API key may call some of
 * their reads (GET /overview, /billing): they are shaped for the dashboard's pages, not a surface
 * integrators should build on. A route in `api` that no API key may call (owner, operator) stops
 * the app from starting (see ApiDocs.install): a new console tag cannot leak into the integrators'
 * document by being forgotten here.
 */
const DOCUMENT_OF_TAG: Record<string, DocumentName> = {
  auth: 'account',
  users: 'account',
  billing: 'account',
  dashboard: 'account',
  operators: 'operators',
  products: 'catalog',
  publishing: 'catalog',
  conflicts: 'catalog',
  oauth: 'account',
  'sync-rules': 'catalog',
  'extension-tokens': 'catalog',
  enquiries: 'account',
};
export const documentOf = (d: RouteDoc): DocumentName => DOCUMENT_OF_TAG[d.tag] ?? 'api';

/** What an API key can hold (src/domain/permissions.ts): operations needing more are not the integrators'. */
const KEY_SCOPES: ReadonlyArray<Scope | 'none'> = ['none', 'read', 'write', 'admin'];

declare module 'fastify' {
  interface FastifyContextConfig {
    openapi?: RouteDoc;
  }
  interface FastifyInstance {
    apiDocs: ApiDocs;
  }
}

/** Route options carrying the route's documentation. */
export const doc = (d: RouteDoc) => ({ config: { openapi: d } });

export const ErrorBody = z.strictObject({
  error: z.strictObject({
    code: z.string().meta({ description: 'Stable snake_case word: validation_failed, not_found, conflict, insufficient_stock ...' }),
    message: z.string(),
    details: z.unknown(),
    request_id: z.string(),
  }),
});

/** `{data: [...], next_cursor}`, the shape of every list. */
export const pageOf = <T extends ZodType>(item: T) => z.strictObject({ data: z.array(item), next_cursor: z.string().nullable() });

export const requiredScope = (method: string, d: RouteDoc | undefined): Scope | 'none' => d?.scope ?? (method === 'GET' ? 'read' : 'write');

interface Documented {
  method: string;
  url: string;
  doc: RouteDoc;
}

export class ApiDocs {
  readonly routes: Documented[] = [];
  private built: { union: Record<string, unknown>; documents: Record<DocumentName, Record<string, unknown>> } | null = null;

  /** Collects every route as it is added; an undocumented /api/v1 route stops the app from starting. */
  install(app: FastifyInstance): void {
    app.addHook('onRoute', (r) => {
      if (!r.url.startsWith('/api/v1')) return;
      const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'HEAD');
      const d = r.config?.openapi;
      if (!d) {
        if (methods.length) throw new Error(`route ${methods.join(',')} ${r.url} has no OpenAPI description (config.openapi)`);
        return;
      }
      for (const method of methods) {
        const scope = requiredScope(method, d);
        if (documentOf(d) === 'api' && !KEY_SCOPES.includes(scope)) {
          throw new Error(
            `route ${method} ${r.url} needs the ${scope} permission, which no API key holds, but its tag '${d.tag}' puts it in the integrators' document: name the tag in DOCUMENT_OF_TAG (src/http/openapi.ts)`,
          );
        }
        this.routes.push({ method, url: r.url, doc: d });
      }
    });
    // A route that documents no query parameters takes none (routes with a query validate it strictly).
    app.addHook('preValidation', async (req) => {
      const d = req.routeOptions.config?.openapi;
      if (!d || d.query) return;
      const keys = Object.keys((req.query as Record<string, unknown> | null) ?? {});
      if (keys.length) {
        throw new ApiError(
          400,
          'validation_failed',
          'This route takes no query parameters',
          keys.map((k) => ({ path: k, message: 'unknown parameter' })),
        );
      }
    });
  }

  private build() {
    if (!this.built) {
      const union = buildDocument(this.routes);
      const documents = Object.fromEntries(DOCUMENT_NAMES.map((n) => [n, splitDocument(union, n, (op) => documentOf(op))])) as Record<
        DocumentName,
        Record<string, unknown>
      >;
      this.built = { union, documents };
    }
    return this.built;
  }

  /** One of the served documents (default: the integrators'). */
  document(name: DocumentName = 'api'): Record<string, unknown> {
    return this.build().documents[name];
  }

  /**
   * Every operation of every document in one (what the SDK's types are generated from, so the
   * dashboard is typed for its session routes too). Equal to mergeDocuments() of the served ones:
   * the documents are cut from it, and a component keeps its name in every document holding it.
   */
  union(): Record<string, unknown> {
    return this.build().union;
  }
}

/** Response schemas named here become components (#/components/schemas/<id>) instead of being repeated. */
export const components = z.registry<{ id: string }>();
export const named = <T extends ZodType>(schema: T, id: string): T => {
  components.add(schema, { id });
  return schema;
};

function jsonSchema(s: ZodType, io: 'input' | 'output', defs: Record<string, unknown>): Record<string, unknown> {
  if (s === ErrorBody) return { $ref: '#/components/schemas/Error' };
  const raw = z.toJSONSchema(s, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    metadata: components,
    // zod spells date-times out as a 400-character pattern beside the format: the format says it.
    override: ({ jsonSchema: j }) => {
      if (j.format === 'date-time' || j.format === 'date') delete j.pattern;
      // Every z.number().int() would say "between ±(2^53 - 1)": noise in what we answer, which is
      // always a safe integer (it stays said on requests, where it is a limit we enforce).
      if (io === 'output' && j.type === 'integer') {
        if (j.minimum === Number.MIN_SAFE_INTEGER) delete j.minimum;
        if (j.maximum === Number.MAX_SAFE_INTEGER) delete j.maximum;
      }
    },
  }) as Record<string, unknown>;
  delete raw.$schema;
  if (!raw.$defs) return raw;
  const out = JSON.parse(JSON.stringify(raw).replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;
  Object.assign(defs, out.$defs);
  delete out.$defs;
  return out;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No content',
  400: 'The request is not valid (validation_failed, invalid_json, invalid_request)',
  401: 'No valid credential (unauthorized)',
  403: 'The credential lacks the scope or the tenant (forbidden)',
  404: 'Not found (also for another tenant\u2019s ids)',
  409: 'Conflict (conflict, insufficient_stock, idempotency_key_in_use)',
  412: 'If-Match names an older version (precondition_failed)',
  413: 'Body too large',
  415: 'Unsupported content type',
  422: 'Idempotency-Key reused with a different request (idempotency_key_reused)',
  428: 'If-Match is required (precondition_required)',
  429: 'Rate limit exceeded (rate_limited); see Retry-After',
  502: 'The channel (or Stripe) could not be reached or refused us',
  503: 'The database is unreachable for a moment (database_unavailable: nothing was changed; retry after Retry-After seconds), or not set up on this StockClerk (billing_not_configured)',
};
// What any operation may answer, documented once as the `4XX` response rather than repeated per
// operation; an operation with client errors of its own (404, 409, 412 ...) refers to a 4XX
// response that adds them (`Error4XX_404_409`). The document stays small enough for the tools that
// take it whole (a shell argument is capped at 128 KiB). `x-statuses` names exactly which statuses
// a 4XX stands for (the contract tests hold us to that).
export const ANY_4XX_STATUSES = [400, 401, 403, 413, 415, 429];
const ANY_4XX =
  'A client error, for any operation: 400 the request is not valid (validation_failed, invalid_json, invalid_request); ' +
  '401 no valid credential (unauthorized); 403 the credential lacks the scope or the tenant (forbidden); 413 body too large; ' +
  '415 unsupported content type; 429 rate limit exceeded (rate_limited), wait Retry-After seconds.';

const header = (description: string, required = true) => ({ description, required, schema: { type: 'string' } });
const HEADERS = {
  'X-Request-Id': header('Echoes a sane incoming X-Request-Id, else a new id'),
  ETag: header('Version of this resource; send it back as If-Match'),
  Location: header('Where the created resource (a job: poll it) is read'),
  'Retry-After': header('Seconds to wait (429, 503)', false),
  RateLimit: header('API keys: remaining quota, e.g. "default";r=17;t=2', false),
  'RateLimit-Policy': header('API keys: the quota, e.g. "default";q=100;w=5', false),
  'X-Read-Source': header('With a read replica configured: replica or primary, whichever served this answer', false),
  'X-Data-Staleness-Ms': header('From the replica: at most this many ms of commits may be missing from the answer', false),
  'X-Read-Fallback': header('From the primary although a replica is configured: why (lagging, unreachable, own_write ...)', false),
};
const PARAMETERS: Record<string, unknown> = {
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    description: 'Makes the POST safe to retry for 24 h: the first response is replayed for the same key and body',
    schema: { type: 'string', minLength: 1, maxLength: 255 },
  },
  IfMatch: { name: 'If-Match', in: 'header', required: true, description: 'The ETag of the version being changed', schema: { type: 'string' } },
};
const ref = (kind: 'headers' | 'parameters' | 'responses', name: string) => ({ $ref: `#/components/${kind}/${name}` });

/**
 * The name of the 4XX response an operation refers to: `Error4XX` (what any operation may answer)
 * or, with the statuses particular to it, `Error4XX_404_409_422` (its x-statuses list them all).
 * One reference per operation instead of one per status: ~15 KB less document (issue 11).
 */
function clientErrorsName(own: number[]): string {
  const extra = [...new Set(own)].filter((s) => !ANY_4XX_STATUSES.includes(s)).sort((a, b) => a - b);
  return extra.length ? `Error4XX_${extra.join('_')}` : 'Error4XX';
}

/** The error statuses that say something about this operation (they join its `4XX`). */
function errorStatuses(method: string, d: RouteDoc): number[] {
  const out = new Set<number>();
  if (d.params || d.body) out.add(404);
  if (method === 'POST') [409, 422].forEach((s) => out.add(s));
  if (d.ifMatch) [412, 428].forEach((s) => out.add(s));
  // Any operation may find the database away for a moment (src/http/errors.ts): 503, Retry-After.
  out.add(503);
  return [...out];
}

/**
 * What several operations repeat word for word (a parameter such as an id in the path, limit or
 * cursor; a response such as "200 with an ETag and the Item") is written once in components and
 * referenced. `nameOf` names it; a name with several forms is told apart by the one resource each
 * form belongs to (`items.id`, `channels.id`), else its commonest form keeps the bare name and the
 * others stay inline.
 */
function hoist<T extends object>(
  paths: Record<string, Record<string, Record<string, unknown>>>,
  slots: (op: Record<string, unknown>) => Array<[holder: Record<string, unknown>, key: string]>,
  nameOf: (value: T) => string | null,
  into: Record<string, unknown>,
  kind: 'parameters' | 'responses',
): void {
  const uses = new Map<string, { value: T; resources: Set<string>; count: number }>();
  const visit = (fn: (value: T, json: string, resource: string, holder: Record<string, unknown>, key: string) => void) => {
    for (const [path, item] of Object.entries(paths)) {
      const resource = path.split('/')[3] ?? '';
      for (const op of Object.values(item)) {
        for (const [holder, key] of slots(op)) {
          const value = holder[key] as T;
          if (!('$ref' in value)) fn(value, JSON.stringify(value), resource, holder, key);
        }
      }
    }
  };
  visit((value, json, resource) => {
    const u = uses.get(json) ?? { value, resources: new Set(), count: 0 };
    u.count++;
    u.resources.add(resource);
    uses.set(json, u);
  });
  const repeated = [...uses.entries()].filter(([, u]) => u.count > 1).sort((a, b) => b[1].count - a[1].count);
  const forms = new Map<string, number>();
  for (const [, u] of repeated) {
    const base = nameOf(u.value);
    if (base) forms.set(base, (forms.get(base) ?? 0) + 1);
  }
  const names = new Map<string, string>();
  const taken = new Set(Object.keys(into));
  for (const [json, u] of repeated) {
    const base = nameOf(u.value);
    if (!base) continue;
    // One form: the bare name. Several: each under its one resource; one spread over several
    // resources (the commonest comes first) takes the bare name if it is still free.
    const own = u.resources.size === 1 ? `${[...u.resources][0]}.${base}` : null;
    const name = forms.get(base) === 1 ? base : (own ?? base);
    if (taken.has(name)) continue;
    taken.add(name);
    names.set(json, name);
    into[name] = u.value;
  }
  visit((_v, json, _r, holder, key) => {
    const name = names.get(json);
    if (name) holder[key] = ref(kind, name);
  });
}

const hoistParameters = (paths: Parameters<typeof hoist>[0], into: Record<string, unknown>) =>
  hoist<{ name: string }>(
    paths,
    (op) => (op.parameters as unknown[]).map((_, i) => [op.parameters as Record<string, unknown>, String(i)]),
    (p) => p.name,
    into,
    'parameters',
  );

/** A success response is named after the schema it returns (`Item`), with `.etag` when it carries one. */
const hoistResponses = (paths: Parameters<typeof hoist>[0], into: Record<string, unknown>) =>
  hoist<{ headers?: Record<string, unknown>; content?: Record<string, { schema: { $ref?: string } }> }>(
    paths,
    (op) => Object.keys(op.responses as object).map((code) => [op.responses as Record<string, unknown>, code]),
    (r) => {
      const schema = Object.values(r.content ?? {})[0]
        ?.schema.$ref?.split('/')
        .pop();
      if (!schema) return null;
      const extras = Object.keys(r.headers ?? {}).map((h) => h.toLowerCase());
      return [schema, ...extras].join('.');
    },
    into,
    'responses',
  );

/** The route description each operation of a built document came from (splitDocument sorts by it). */
const docOf = new WeakMap<object, RouteDoc>();

function buildDocument(routes: Documented[]): Record<string, unknown> {
  const paths: Record<string, Record<string, { parameters: unknown[] } & Record<string, unknown>>> = {};
  const tags = new Set<string>();
  const defs: Record<string, unknown> = {};
  // Each 4XX combination the operations use: its name and the statuses it stands for.
  const clientErrorSets = new Map<string, number[]>();
  const clientErrors = (own: number[]) => {
    const name = clientErrorsName(own);
    clientErrorSets.set(
      name,
      [...new Set([...ANY_4XX_STATUSES, ...own])].sort((a, b) => a - b),
    );
    return name;
  };
  for (const { method, url, doc: d } of routes) {
    const path = url.replace(/:([A-Za-z_]+)/g, '{$1}');
    tags.add(d.tag);
    const parameters: unknown[] = [];
    for (const [name, s] of Object.entries(d.params?.shape ?? {})) {
      parameters.push({ name, in: 'path', required: true, schema: jsonSchema(s as ZodType, 'input', defs) });
    }
    for (const [name, s] of Object.entries(d.query?.shape ?? {})) {
      const schema = s as ZodType;
      const required = !schema.safeParse(undefined).success;
      parameters.push({ name, in: 'query', ...(required ? { required } : {}), schema: jsonSchema(schema, 'input', defs) });
    }
    const scope = requiredScope(method, d);
    if (method === 'POST' && scope !== 'none') parameters.push(ref('parameters', 'IdempotencyKey'));
    if (d.ifMatch) parameters.push(ref('parameters', 'IfMatch'));

    const responses: Record<string, unknown> = {};
    const statuses: Record<number, ZodType | null> = { ...Object.fromEntries(errorStatuses(method, d).map((s) => [s, ErrorBody])), ...d.responses };
    // The client errors particular to this operation join its 4XX, whose x-statuses name them.
    const own4xx: number[] = [];
    for (const [code, s] of Object.entries(statuses)) {
      const status = Number(code);
      if (s === ErrorBody) {
        if (status >= 400 && status < 500) own4xx.push(status);
        else responses[code] = ref('responses', `Error${code}`);
        continue;
      }
      // X-Request-Id and the RateLimit fields come on every response (see info.description).
      const ok = status >= 200 && status < 300;
      const headers: Record<string, unknown> = {};
      if (d.etag && ok && s) headers.ETag = ref('headers', 'ETag');
      if (d.location && ok) headers.Location = ref('headers', 'Location');
      if (d.replica && ok) for (const h of ['X-Read-Source', 'X-Data-Staleness-Ms', 'X-Read-Fallback']) headers[h] = ref('headers', h);
      const media = d.contentType && ok ? d.contentType : 'application/json';
      responses[code] = {
        description: STATUS_TEXT[status] ?? 'Response',
        ...(Object.keys(headers).length ? { headers } : {}),
        ...(s ? { content: { [media]: { schema: jsonSchema(s, 'output', defs) } } } : {}),
      };
    }
    responses['4XX'] = ref('responses', clientErrors(own4xx));
    const op = {
      // get /api/v1/stock-levels/{item_id} -> getStockLevelsItemId (what generated clients name methods by)
      operationId: `${method.toLowerCase()}${path
        .replace(/^\/api\/v1/, '')
        .split(/[^A-Za-z0-9]+/)
        .filter(Boolean)
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join('')}`,
      summary: d.summary,
      tags: [d.tag],
      ...(d.description ? { description: d.description } : {}),
      // The permission, when it is not the method's default (GET read, else write: see info.description).
      ...(scope === 'none' ? { security: [] } : scope === requiredScope(method, undefined) ? {} : { 'x-required-scope': scope }),
      parameters,
      ...(d.body ? { requestBody: { required: !d.bodyOptional, content: { 'application/json': { schema: jsonSchema(d.body, 'input', defs) } } } } : {}),
      responses,
    };
    (paths[path] ??= {})[method.toLowerCase()] = op;
    docOf.set(op, d);
  }
  const parameters = { ...PARAMETERS };
  hoistParameters(paths, parameters);
  const shared: Record<string, unknown> = {};
  hoistResponses(paths, shared);
  // An operation without parameters leaves the field out (119 empty arrays are 2 KB of the budget).
  for (const ops of Object.values(paths)) for (const op of Object.values(ops)) if (op.parameters.length === 0) delete (op as Partial<typeof op>).parameters;
  const errorResponse = (description: string) => ({
    description,
    headers: { 'X-Request-Id': ref('headers', 'X-Request-Id'), 'Retry-After': ref('headers', 'Retry-After') },
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'StockClerk API',
      version: '1.0.0',
      description:
        'One authoritative stock ledger per merchant. Authenticate with `Authorization: Bearer <API key or session token>`; ' +
        'a platform key names the tenant it acts on in `X-Tenant-ID`. ' +
        'Lists take `limit` and `cursor` and answer `{data, next_cursor}`. Errors answer `{error: {code, message, details, request_id}}`. ' +
        'Every response carries `X-Request-Id`; calls made with an API key also carry `RateLimit` and `RateLimit-Policy`. ' +
        'Each operation needs a permission (read, write, admin, owner or operator; admin includes write, write includes read): `x-required-scope` names it, and where it is absent a GET needs `read` and anything else `write`.',
    },
    servers: [{ url: '/' }],
    tags: [...tags].sort().map((name) => ({ name })),
    security: [{ bearer: [] }, { bearer: [], tenant: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key (sck_... / scp_...) or a session JWT from /api/v1/auth/login' },
        tenant: { type: 'apiKey', in: 'header', name: 'X-Tenant-ID', description: 'Platform keys (scp_...) only: the tenant this call acts on' },
      },
      schemas: {
        ...defs,
        Error: (() => {
          const e = z.toJSONSchema(ErrorBody, { target: 'draft-2020-12', io: 'output' }) as Record<string, unknown>;
          delete e.$schema;
          return e;
        })(),
      },
      headers: HEADERS,
      responses: {
        ...Object.fromEntries(
          [...clientErrorSets].map(([name, all]) => {
            const own = all.filter((st) => !ANY_4XX_STATUSES.includes(st));
            const text = own.length ? `Any client error (see Error4XX), and: ${own.map((st) => `${st} ${STATUS_TEXT[st] ?? ''}`.trim()).join('; ')}.` : ANY_4XX;
            return [name, { ...errorResponse(text), 'x-statuses': all }];
          }),
        ),
        ...Object.fromEntries(
          Object.entries(STATUS_TEXT)
            .filter(([code]) => Number(code) >= 500)
            .map(([code, description]) => [`Error${code}`, errorResponse(description)]),
        ),
        ...shared,
      },
      parameters,
    },
    paths,
  };
}

type Json = Record<string, unknown>;

/** Every local `#/components/<kind>/<name>` a value refers to, directly. */
function refsIn(node: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const n of node) refsIn(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/')) out.add(v);
      else refsIn(v, out);
    }
  }
  return out;
}

/**
 * One audience's document, cut from the document of every route: its operations, and of the
 * components only those its operations reach (followed transitively), under the same names. So
 * each document is complete on its own, and a component is named alike in all of them.
 */
function splitDocument(union: Json, name: DocumentName, which: (d: RouteDoc) => DocumentName): Json {
  const paths: Record<string, Json> = {};
  const tags = new Set<string>();
  for (const [path, item] of Object.entries(union.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item)) {
      const d = docOf.get(op as object);
      if (!d || which(d) !== name) continue;
      (paths[path] ??= {})[method] = op;
      tags.add(d.tag);
    }
  }
  const all = union.components as Record<string, Json>;
  const components: Record<string, Json> = { securitySchemes: all.securitySchemes! };
  const pending = [...refsIn(paths, new Set())];
  // The headers an API key's calls carry (RateLimit ...) are said once, in the integrators' document,
  // though no operation refers to them.
  if (name === 'api') pending.push(...Object.keys(all.headers ?? {}).map((h) => `#/components/headers/${h}`));
  const seen = new Set<string>();
  while (pending.length) {
    const ref = pending.pop()!;
    if (seen.has(ref)) continue;
    seen.add(ref);
    const [, , kind, key] = ref.split('/') as [string, string, string, string];
    const value = all[kind]?.[key];
    if (value === undefined) throw new Error(`OpenAPI: dangling ${ref}`);
    (components[kind] ??= {})[key] = value;
    pending.push(...refsIn(value, new Set()));
  }
  // Components in the order the full document lists them (stable output, whatever the walk order).
  const ordered = Object.fromEntries(
    Object.entries(all)
      .filter(([kind]) => components[kind])
      .map(([kind, entries]) => [
        kind,
        Object.fromEntries(
          Object.keys(entries)
            .filter((k) => components[kind]![k])
            .map((k) => [k, entries[k]]),
        ),
      ]),
  );
  const doc = DOCUMENTS[name];
  const others = DOCUMENT_NAMES.filter((n) => n !== name)
    .map((n) => `${DOCUMENTS[n].label}: \`${DOCUMENTS[n].path}\``)
    .join('; ');
  const info = union.info as Json;
  return {
    ...union,
    info: { ...info, title: doc.title, description: `${String(info.description)} The other documents of this API: ${others}.` },
    tags: (union.tags as Array<{ name: string }>).filter((t) => tags.has(t.name)),
    components: ordered,
    paths,
  };
}

/** The documents as one (what a client of several of them sees): paths and components joined. */
export function mergeDocuments(docs: Json[]): Json {
  const [first] = docs;
  const components: Record<string, Json> = {};
  const paths: Record<string, Json> = {};
  const tags = new Map<string, unknown>();
  for (const d of docs) {
    for (const [kind, entries] of Object.entries(d.components as Record<string, Json>)) Object.assign((components[kind] ??= {}), entries);
    for (const [path, item] of Object.entries(d.paths as Record<string, Json>)) Object.assign((paths[path] ??= {}), item);
    for (const t of d.tags as Array<{ name: string }>) tags.set(t.name, t);
  }
  return { ...first, tags: [...tags.values()], components, paths };
}
