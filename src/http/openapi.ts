// The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with.
// Each /api/v1 route carries its description in `config.openapi` (see `doc()`); the app refuses to
// start with an undocumented /api/v1 route, so the document cannot fall behind the routes.
// zod 4's own z.toJSONSchema (draft 2020-12, the dialect of OpenAPI 3.1) does the conversion:
// request schemas in their input form, response schemas in their output form (strict objects).
import type { FastifyInstance } from 'fastify';
import { z, type ZodType } from 'zod';
import { ApiError } from './errors.ts';

export type Scope = 'read' | 'write' | 'admin';

export interface RouteDoc {
  summary: string;
  tag: string;
  description?: string;
  /** Scope an API key needs; default read for GET, write otherwise. 'none' = no credential. */
  scope?: Scope | 'none';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: ZodType;
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
}

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
  private built: Record<string, unknown> | null = null;

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
      for (const method of methods) this.routes.push({ method, url: r.url, doc: d });
    });
    // A route that documents no query parameters takes none (routes with a query validate it strictly).
    app.addHook('preValidation', async (req) => {
      const d = req.routeOptions.config?.openapi;
      if (!d || d.query) return;
      const keys = Object.keys((req.query as Record<string, unknown> | null) ?? {});
      if (keys.length) {
        throw new ApiError(400, 'validation_failed', 'This route takes no query parameters', keys.map((k) => ({ path: k, message: 'unknown parameter' })));
      }
    });
  }

  document(): Record<string, unknown> {
    return (this.built ??= buildDocument(this.routes));
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
  502: 'The channel could not be reached or refused us',
};

const header = (description: string, required = true) => ({ description, required, schema: { type: 'string' } });
const HEADERS = {
  'X-Request-Id': header('Echoes a sane incoming X-Request-Id, else a new id'),
  ETag: header('Version of this resource; send it back as If-Match'),
  Location: header('Where the created resource (a job: poll it) is read'),
  'Retry-After': header('Seconds to wait'),
  RateLimit: header('API keys: remaining quota, e.g. "default";r=17;t=2', false),
  'RateLimit-Policy': header('API keys: the quota, e.g. "default";q=100;w=5', false),
};
const PARAMETERS = {
  TenantId: { name: 'X-Tenant-ID', in: 'header', required: false, description: 'Platform keys only: the tenant this call acts on', schema: { type: 'string' } },
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description: 'Makes the POST safe to retry for 24 h: the first response is replayed for the same key and body',
    schema: { type: 'string', minLength: 1, maxLength: 255 },
  },
  IfMatch: { name: 'If-Match', in: 'header', required: true, description: 'The ETag of the version being changed', schema: { type: 'string' } },
};
const ref = (kind: 'headers' | 'parameters', name: string) => ({ $ref: `#/components/${kind}/${name}` });

function errorStatuses(method: string, d: RouteDoc): number[] {
  const out = new Set<number>();
  if (requiredScope(method, d) !== 'none') [401, 403, 429].forEach((s) => out.add(s));
  out.add(400); // unknown query parameters, bad headers, bodies
  if (d.params || d.body) out.add(404);
  if (d.body) [413, 415].forEach((s) => out.add(s));
  if (method === 'POST') [409, 422].forEach((s) => out.add(s));
  if (d.ifMatch) [412, 428].forEach((s) => out.add(s));
  return [...out];
}

function buildDocument(routes: Documented[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  const defs: Record<string, unknown> = {};
  for (const { method, url, doc: d } of routes) {
    const path = url.replace(/:([A-Za-z_]+)/g, '{$1}');
    tags.add(d.tag);
    const parameters: unknown[] = [];
    for (const [name, s] of Object.entries(d.params?.shape ?? {})) {
      parameters.push({ name, in: 'path', required: true, schema: jsonSchema(s as ZodType, 'input', defs) });
    }
    for (const [name, s] of Object.entries(d.query?.shape ?? {})) {
      const schema = s as ZodType;
      parameters.push({ name, in: 'query', required: !schema.safeParse(undefined).success, schema: jsonSchema(schema, 'input', defs) });
    }
    const scope = requiredScope(method, d);
    if (scope !== 'none') parameters.push(ref('parameters', 'TenantId'));
    if (method === 'POST' && scope !== 'none') parameters.push(ref('parameters', 'IdempotencyKey'));
    if (d.ifMatch) parameters.push(ref('parameters', 'IfMatch'));

    const responses: Record<string, unknown> = {};
    const statuses: Record<number, ZodType | null> = { ...Object.fromEntries(errorStatuses(method, d).map((s) => [s, ErrorBody])), ...d.responses };
    for (const [code, s] of Object.entries(statuses)) {
      const status = Number(code);
      if (s === ErrorBody) {
        responses[code] = { $ref: `#/components/responses/Error${code}` };
        continue;
      }
      const headers: Record<string, unknown> = { 'X-Request-Id': ref('headers', 'X-Request-Id') };
      if (d.etag && status >= 200 && status < 300 && s) headers.ETag = ref('headers', 'ETag');
      if (status === 429) headers['Retry-After'] = ref('headers', 'Retry-After');
      if (d.location && status >= 200 && status < 300) headers.Location = ref('headers', 'Location');
      const media = d.contentType && status >= 200 && status < 300 ? d.contentType : 'application/json';
      if (scope !== 'none') {
        headers.RateLimit = ref('headers', 'RateLimit');
        headers['RateLimit-Policy'] = ref('headers', 'RateLimit-Policy');
      }
      responses[code] = {
        description: STATUS_TEXT[status] ?? 'Response',
        headers,
        ...(s ? { content: { [media]: { schema: jsonSchema(s, 'output', defs) } } } : {}),
      };
    }
    const op: Record<string, unknown> = {
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
      ...(scope === 'none' ? { security: [] } : { 'x-required-scope': scope }),
      parameters,
      ...(d.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(d.body, 'input', defs) } } } } : {}),
      responses,
    };
    (paths[path] ??= {})[method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'StockClerk API',
      version: '1.0.0',
      description:
        'One authoritative stock ledger per merchant. Authenticate with `Authorization: Bearer <API key or session token>`. ' +
        'Lists take `limit` and `cursor` and answer `{data, next_cursor}`. Errors answer `{error: {code, message, details, request_id}}`.',
    },
    servers: [{ url: '/' }],
    tags: [...tags].sort().map((name) => ({ name })),
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key (sck_... / scp_...) or a session JWT from /api/v1/auth/login' } },
      schemas: { ...defs, Error: (() => { const e = z.toJSONSchema(ErrorBody, { target: 'draft-2020-12', io: 'output' }) as Record<string, unknown>; delete e.$schema; return e; })() },
      headers: HEADERS,
      // One shared description per error status: {error: {code, message, details, request_id}}.
      responses: Object.fromEntries(
        Object.entries(STATUS_TEXT)
          .filter(([code]) => Number(code) >= 400)
          .map(([code, description]) => [
            `Error${code}`,
            {
              description,
              headers: {
                'X-Request-Id': ref('headers', 'X-Request-Id'),
                ...(code === '429' ? { 'Retry-After': ref('headers', 'Retry-After') } : {}),
                RateLimit: ref('headers', 'RateLimit'),
                'RateLimit-Policy': ref('headers', 'RateLimit-Policy'),
              },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
            },
          ]),
      ),
      parameters: PARAMETERS,
    },
    paths,
  };
}
