// Square emulator (channel-apis.md section 4, Square's API reference): Locations, Catalog (ITEMs
// with their variations, cursor-paged), Inventory counts per (variation, location) with
// batch-retrieve (filters, `updated_after`, newest first, cursor-paged) and batch-create
// (PHYSICAL_COUNT / ADJUSTMENT changes re-sequenced by occurred_at, an idempotency key per request:
// the same key and body replays the first answer, the same key with another body is refused),
// Square's error body `{errors: [{category, code, detail, field}]}`, 429 RATE_LIMITED, and
// `inventory.count.updated` notifications signed the way Square signs them: base64 HMAC-SHA256 with
// the subscription's signature key over the notification URL followed by the body. OAuth: the
// seller's consent page (/oauth2/authorize) and POST /oauth2/token (authorization_code and
// refresh_token grants; access tokens live 30 days). Its own code throughout: nothing from src/.
//
// Accounts: credentials {access_token} (a personal access token) and, for OAuth, {client_id,
// client_secret, redirect_uri}; webhookUrl = the subscription's notification URL, webhookSecret =
// its signature key. Control API: the kit's, plus /_control/accounts/:id/code (a consent without the
// page) and /_control/tokens (expire every OAuth access token now).
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Emulator, header, type AccountInput, type EmulatorOptions, type EmulatorSpec } from '../kit/index.ts';
import {
  applyChange,
  countJson,
  countKey,
  createSeller,
  loadSeller,
  quantityOf,
  saveSeller,
  squareId,
  type SqCount,
  type SquareAccount,
  type SquareAccountOptions,
} from './store.ts';

export type { SquareAccount } from './store.ts';

/** Access tokens from OAuth live 30 days (ObtainTokenResponse). */
const ACCESS_TTL_MS = 30 * 24 * 3600_000;
/** GUESS: authorization codes are single use and short-lived; 5 minutes here. */
const CODE_TTL_MS = 5 * 60_000;
/** GUESS: how long an idempotency key is remembered is not documented; 24 hours here. */
const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** BatchChangeInventory takes at most 100 changes. */
const MAX_CHANGES = 100;
const DECIMAL = /^-?\d{1,12}(\.\d{1,5})?$/;

type Marked = FastifyRequest & { sqError?: { status: number; code: string; detail: string } };

export interface SquareError {
  category: string;
  code: string;
  detail: string;
  field?: string;
}

function errors(reply: FastifyReply, status: number, errs: SquareError[]): FastifyReply {
  return reply.code(status).send({ errors: errs });
}
const invalid = (reply: FastifyReply, code: string, detail: string, field?: string) =>
  errors(reply, 400, [{ category: 'INVALID_REQUEST_ERROR', code, detail, ...(field ? { field } : {}) }]);

/** Notification signature: base64 HMAC-SHA256(signature key, notification URL + body). */
export function signNotification(signatureKey: string, url: string, body: string): string {
  return createHmac('sha256', signatureKey)
    .update(url + body)
    .digest('base64');
}

/** Cursors are opaque: the offset into the result and the query they belong to. */
function encodeCursor(offset: number, query: string): string {
  return Buffer.from(JSON.stringify({ o: offset, q: query })).toString('base64url');
}
function decodeCursor(cursor: string, query: string): number | null {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown; q?: unknown };
    return typeof c.o === 'number' && Number.isInteger(c.o) && c.o >= 0 && c.q === query ? c.o : null;
  } catch {
    return null;
  }
}

/** Key order never matters to Square's comparison of two request bodies. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

interface Shared {
  /** OAuth access tokens issued: token -> seller and expiry. */
  access: Record<string, { accountId: string; expiresAt: number }>;
  /** Refresh tokens (code flow: reusable, answered back unchanged). */
  refresh: Record<string, { accountId: string }>;
  codes: Record<string, { accountId: string; expiresAt: number }>;
}

export function createSquareEmulator(opts: EmulatorOptions = {}): Emulator<SquareAccount> {
  let shared: Shared = { access: {}, refresh: {}, codes: {} };

  const issueCode = (acc: SquareAccount): string => {
    const code = `sq0cgp-${randomBytes(16).toString('base64url')}`;
    shared.codes[code] = { accountId: acc.id, expiresAt: Date.now() + CODE_TTL_MS };
    return code;
  };
  const issueAccess = (acc: SquareAccount) => {
    const token = `EAAA${randomBytes(24).toString('base64url')}`;
    const expiresAt = Date.now() + ACCESS_TTL_MS;
    shared.access[token] = { accountId: acc.id, expiresAt };
    return { token, expiresAt };
  };

  const notify = (emu: Emulator<SquareAccount>, acc: SquareAccount, counts: SqCount[]): void => {
    if (!acc.webhookUrl || counts.length === 0) return;
    const body = JSON.stringify({
      merchant_id: acc.merchantId,
      type: 'inventory.count.updated',
      event_id: randomUUID(),
      created_at: new Date().toISOString(),
      data: { type: 'inventory_counts', id: randomUUID(), object: { inventory_counts: counts.map(countJson) } },
    });
    const key = acc.webhookSecret ?? '';
    emu.sendWebhook(acc, {
      headers: {
        'x-square-hmacsha256-signature': signNotification(key, acc.webhookUrl, body),
        // Legacy header, still sent beside the SHA-256 one: HMAC-SHA1 over the same bytes.
        'x-square-signature': createHmac('sha1', key)
          .update(acc.webhookUrl + body)
          .digest('base64'),
        'square-environment': 'Production', // GUESS: header value
      },
      body,
    });
  };

  const findVariation = (acc: SquareAccount, input: { externalId?: string; sku?: string }) =>
    acc.variations.find((v) => (input.externalId ? v.id === input.externalId : v.sku === input.sku));

  const spec: EmulatorSpec<SquareAccount> = {
    platform: 'square',
    // GUESS: Square publishes no rate limit, only 429 RATE_LIMITED; 10 calls/s with a burst of 20 per seller here.
    rateLimit: { perSecond: 10, burst: 20 },
    createAccount: (input, base) => createSeller(input as AccountInput & SquareAccountOptions, base),
    saveAccount: saveSeller,
    loadAccount: loadSeller,
    saveShared: () => shared,
    loadShared: (s) => {
      shared = { access: {}, refresh: {}, codes: {}, ...(s as Partial<Shared>) };
    },

    authenticate(req, accounts) {
      const path = req.url.split('?')[0]!;
      // The consent page and the token endpoint check the application themselves.
      if (path.startsWith('/oauth2/')) return [...accounts.values()][0] ?? null;
      const m = /^Bearer (.+)$/.exec(header(req, 'authorization') ?? '');
      const token = m?.[1];
      const mark = req as Marked;
      if (!token) return ((mark.sqError = { status: 401, code: 'UNAUTHORIZED', detail: 'This request could not be authorized.' }), null);
      const personal = [...accounts.values()].find((a) => a.credentials.access_token === token);
      if (personal) return personal;
      const grant = shared.access[token];
      if (!grant) return ((mark.sqError = { status: 401, code: 'UNAUTHORIZED', detail: 'This request could not be authorized.' }), null);
      if (grant.expiresAt <= Date.now()) return ((mark.sqError = { status: 401, code: 'ACCESS_TOKEN_EXPIRED', detail: 'The access token has expired.' }), null);
      return accounts.get(grant.accountId) ?? null;
    },
    unauthorized(reply) {
      const e = (reply.request as Marked).sqError ?? { status: 401, code: 'UNAUTHORIZED', detail: 'This request could not be authorized.' };
      return errors(reply, e.status, [{ category: 'AUTHENTICATION_ERROR', code: e.code, detail: e.detail }]);
    },
    throttled(reply, retryAfterSec) {
      // GUESS: Square documents no Retry-After header; the emulator sends one (clients must cope without it too).
      void reply.header('retry-after', String(retryAfterSec));
      return errors(reply, 429, [{ category: 'RATE_LIMIT_ERROR', code: 'RATE_LIMITED', detail: 'This request was rate limited.' }]);
    },
    serverError: (reply) => errors(reply, 500, [{ category: 'API_ERROR', code: 'INTERNAL_SERVER_ERROR', detail: 'An internal error has occurred.' }]),

    routes(app, emu) {
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
        done(null, Object.fromEntries(new URLSearchParams(body as string))),
      );
      // Square-Version pins the API version: a date. GUESS: a malformed one is refused as INVALID_VALUE.
      app.addHook('preHandler', async (req, reply) => {
        const v = header(req, 'square-version');
        if (v !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v) && !req.url.startsWith('/_control'))
          return invalid(reply, 'INVALID_VALUE', 'Invalid Square-Version', 'Square-Version');
      });

      app.get('/v2/locations', async (req) => {
        const acc = emu.account(req);
        return {
          locations: acc.locations.map((l) => ({ id: l.id, name: l.name, status: l.status, merchant_id: acc.merchantId, type: 'PHYSICAL', capabilities: [] })),
        };
      });

      app.get('/v2/catalog/list', async (req, reply) => {
        const acc = emu.account(req);
        const q = req.query as { types?: string; cursor?: string };
        const types = (q.types ?? 'ITEM,ITEM_VARIATION,CATEGORY,TAX,DISCOUNT,MODIFIER_LIST,MODIFIER').split(',').map((t) => t.trim().toUpperCase());
        const objects: unknown[] = [];
        for (const v of acc.variations) {
          const variation = {
            type: 'ITEM_VARIATION',
            id: v.id,
            updated_at: v.updatedAt,
            version: v.version,
            is_deleted: false,
            present_at_all_locations: true,
            item_variation_data: { item_id: v.itemId, name: v.name, sku: v.sku, ordinal: 1, pricing_type: 'VARIABLE_PRICING', track_inventory: true },
          };
          if (types.includes('ITEM'))
            objects.push({
              type: 'ITEM',
              id: v.itemId,
              updated_at: v.updatedAt,
              version: v.version,
              is_deleted: false,
              present_at_all_locations: true,
              item_data: { name: v.itemName, product_type: 'REGULAR', variations: [variation] },
            });
          if (types.includes('ITEM_VARIATION')) objects.push(variation);
        }
        const query = types.join(',');
        let offset = 0;
        if (q.cursor) {
          const o = decodeCursor(q.cursor, query);
          if (o === null) return invalid(reply, 'INVALID_CURSOR', 'The cursor is not valid for this request.', 'cursor');
          offset = o;
        }
        const page = objects.slice(offset, offset + acc.catalogPageSize);
        const next = offset + acc.catalogPageSize < objects.length ? encodeCursor(offset + acc.catalogPageSize, query) : undefined;
        // The catalog's int64 versions go out as JSON numbers.
        const text = JSON.stringify({ objects: page, ...(next ? { cursor: next } : {}) }).replace(/"version":"(\d+)"/g, '"version":$1');
        return reply.type('application/json').send(text);
      });

      app.post('/v2/inventory/counts/batch-retrieve', async (req, reply) => {
        const acc = emu.account(req);
        const b = (req.body ?? {}) as {
          catalog_object_ids?: unknown;
          location_ids?: unknown;
          updated_after?: unknown;
          cursor?: unknown;
          states?: unknown;
          limit?: unknown;
        };
        for (const f of ['catalog_object_ids', 'location_ids', 'states'] as const) {
          const v = b[f];
          if (v !== undefined && v !== null && (!Array.isArray(v) || v.some((x) => typeof x !== 'string')))
            return invalid(reply, 'INVALID_ARRAY_VALUE', `${f} must be an array of strings`, f);
        }
        const limit = b.limit ?? 1000;
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000)
          return invalid(reply, limit && typeof limit === 'number' && limit > 1000 ? 'VALUE_TOO_HIGH' : 'INVALID_VALUE', 'limit must be 1..1000', 'limit');
        let after = -Infinity;
        if (b.updated_after !== undefined && b.updated_after !== null) {
          const t = typeof b.updated_after === 'string' ? Date.parse(b.updated_after) : NaN;
          if (!Number.isFinite(t)) return invalid(reply, 'INVALID_TIME', 'updated_after must be an RFC 3339 timestamp', 'updated_after');
          after = t;
        }
        const ids = b.catalog_object_ids as string[] | undefined;
        const locs = b.location_ids as string[] | undefined;
        const states = b.states as string[] | undefined;
        // Only IN_STOCK is held here; a filter without it matches nothing.
        const all =
          states && states.length && !states.includes('IN_STOCK')
            ? []
            : Object.values(acc.counts)
                .filter((c) => (!ids || ids.length === 0 || ids.includes(c.variationId)) && (!locs || locs.length === 0 || locs.includes(c.locationId)))
                .filter((c) => Date.parse(c.calculatedAt) > after)
                // Newest first (documented).
                .sort((x, y) => y.calculatedAt.localeCompare(x.calculatedAt) || x.variationId.localeCompare(y.variationId));
        const query = canonical({ ids, locs, states, after: b.updated_after ?? null, limit });
        let offset = 0;
        if (typeof b.cursor === 'string' && b.cursor) {
          const o = decodeCursor(b.cursor, query);
          if (o === null) return invalid(reply, 'INVALID_CURSOR', 'The cursor is not valid for this request.', 'cursor');
          offset = o;
        }
        const page = all.slice(offset, offset + limit);
        return { counts: page.map(countJson), ...(offset + limit < all.length ? { cursor: encodeCursor(offset + limit, query) } : {}) };
      });

      app.get('/v2/inventory/:id', async (req) => {
        const acc = emu.account(req);
        const id = (req.params as { id: string }).id;
        const locs = ((req.query as { location_ids?: string }).location_ids ?? '').split(',').filter(Boolean);
        return {
          counts: Object.values(acc.counts)
            .filter((c) => c.variationId === id && (locs.length === 0 || locs.includes(c.locationId)))
            .map(countJson),
        };
      });

      app.post('/v2/inventory/changes/batch-create', async (req, reply) => {
        const acc = emu.account(req);
        const b = (req.body ?? {}) as { idempotency_key?: unknown; changes?: unknown; ignore_unchanged_counts?: unknown };
        if (typeof b.idempotency_key !== 'string' || b.idempotency_key.length < 1 || b.idempotency_key.length > 128)
          return invalid(
            reply,
            b.idempotency_key === undefined ? 'MISSING_REQUIRED_PARAMETER' : 'INVALID_VALUE',
            'idempotency_key is required (1..128 characters)',
            'idempotency_key',
          );
        const now = Date.now();
        for (const [k, v] of Object.entries(acc.idempotency)) if (now - v.at > IDEMPOTENCY_TTL_MS) delete acc.idempotency[k];
        const fingerprint = canonical(b);
        const seen = acc.idempotency[b.idempotency_key];
        if (seen) {
          if (seen.fingerprint === fingerprint) return seen.body;
          return invalid(reply, 'IDEMPOTENCY_KEY_REUSED', 'The idempotency key can only be retried with the same request data.', 'idempotency_key');
        }
        if (!Array.isArray(b.changes) || b.changes.length < 1) return invalid(reply, 'MISSING_REQUIRED_PARAMETER', 'changes is required', 'changes');
        if (b.changes.length > MAX_CHANGES) return invalid(reply, 'ARRAY_LENGTH_TOO_LONG', `at most ${MAX_CHANGES} changes`, 'changes');
        // Validate every change before applying any: the request applies whole or not at all.
        const planned: Array<{ variationId: string; locationId: string; kind: 'count' | 'adjustment'; qty: number; at: number }> = [];
        for (const [i, raw] of (b.changes as unknown[]).entries()) {
          const ch = (raw ?? {}) as { type?: unknown; physical_count?: Record<string, unknown>; adjustment?: Record<string, unknown> };
          const f = `changes[${i}]`;
          const body = ch.type === 'PHYSICAL_COUNT' ? ch.physical_count : ch.type === 'ADJUSTMENT' ? ch.adjustment : undefined;
          const part = ch.type === 'PHYSICAL_COUNT' ? 'physical_count' : 'adjustment';
          if (!body) return invalid(reply, 'INVALID_VALUE', `${f}.type must be PHYSICAL_COUNT or ADJUSTMENT with its object`, `${f}.type`);
          const variationId = body.catalog_object_id;
          const locationId = body.location_id;
          if (typeof variationId !== 'string' || !acc.variations.some((v) => v.id === variationId))
            return errors(reply, 400, [
              {
                category: 'INVALID_REQUEST_ERROR',
                code: 'NOT_FOUND',
                detail: `Catalog object ${String(variationId)} not found`,
                field: `${f}.${part}.catalog_object_id`,
              },
            ]);
          if (typeof locationId !== 'string' || !acc.locations.some((l) => l.id === locationId))
            return errors(reply, 400, [
              { category: 'INVALID_REQUEST_ERROR', code: 'NOT_FOUND', detail: `Location ${String(locationId)} not found`, field: `${f}.${part}.location_id` },
            ]);
          if (typeof body.quantity !== 'string' || !DECIMAL.test(body.quantity))
            return invalid(reply, 'INVALID_VALUE', 'quantity must be a decimal string with up to 5 places', `${f}.${part}.quantity`);
          const at = typeof body.occurred_at === 'string' ? Date.parse(body.occurred_at) : NaN;
          if (!Number.isFinite(at)) return invalid(reply, 'INVALID_TIME', 'occurred_at must be an RFC 3339 timestamp', `${f}.${part}.occurred_at`);
          // Whole units only in this emulator (every catalog item here is counted in units).
          const q = Number(body.quantity);
          if (!Number.isInteger(q)) return invalid(reply, 'INVALID_VALUE', 'fractional quantities are not supported for this item', `${f}.${part}.quantity`);
          if (ch.type === 'PHYSICAL_COUNT') {
            if (body.state !== 'IN_STOCK') return invalid(reply, 'INVALID_ENUM_VALUE', 'state must be IN_STOCK', `${f}.physical_count.state`);
            if (q < 0) return invalid(reply, 'VALUE_TOO_LOW', 'a physical count cannot be negative', `${f}.physical_count.quantity`);
            planned.push({ variationId, locationId, kind: 'count', qty: q, at });
          } else {
            if (q <= 0) return invalid(reply, 'VALUE_TOO_LOW', 'an adjustment quantity must be positive', `${f}.adjustment.quantity`);
            const from = body.from_state;
            const to = body.to_state;
            let delta: number;
            if (from === 'IN_STOCK' && (to === 'SOLD' || to === 'WASTE')) delta = -q;
            else if (from === 'NONE' && to === 'IN_STOCK') delta = q;
            else return invalid(reply, 'INVALID_ENUM_VALUE', 'unsupported from_state/to_state pair', `${f}.adjustment.to_state`);
            planned.push({ variationId, locationId, kind: 'adjustment', qty: delta, at });
          }
        }
        // GUESS: "unchanged" is read as equal to the count Square holds now (the docs say unchanged
        // since the last physical count); such a count is not recorded and fires nothing.
        const ignoreUnchanged = b.ignore_unchanged_counts !== false;
        const touched = new Map<string, SqCount>();
        const changed: SqCount[] = [];
        for (const p of planned) {
          const k = countKey(p.variationId, p.locationId);
          const existing = acc.counts[k];
          if (p.kind === 'count' && ignoreUnchanged && existing && quantityOf(existing) === p.qty) {
            touched.set(k, existing);
            continue;
          }
          const c = applyChange(acc, p.variationId, p.locationId, { kind: p.kind, qty: p.qty, at: p.at });
          touched.set(k, c);
          if (!changed.includes(c)) changed.push(c);
          emu.recordWrite(acc.id, p.variationId, quantityOf(c));
        }
        const answer = {
          counts: [...touched.values()].map(countJson),
          changes: planned.map((p) => ({
            type: p.kind === 'count' ? 'PHYSICAL_COUNT' : 'ADJUSTMENT',
            ...(p.kind === 'count'
              ? {
                  physical_count: {
                    id: squareId(),
                    catalog_object_id: p.variationId,
                    location_id: p.locationId,
                    state: 'IN_STOCK',
                    quantity: String(p.qty),
                    occurred_at: new Date(p.at).toISOString(),
                  },
                }
              : {
                  adjustment: {
                    id: squareId(),
                    catalog_object_id: p.variationId,
                    location_id: p.locationId,
                    quantity: String(Math.abs(p.qty)),
                    occurred_at: new Date(p.at).toISOString(),
                  },
                }),
          })),
        };
        acc.idempotency[b.idempotency_key] = { fingerprint, body: answer, at: now };
        // API changes fire the notification like sales and dashboard edits do. GUESS: one
        // notification carries every count the request changed.
        notify(emu, acc, changed);
        return answer;
      });

      // ---- OAuth: the seller's consent page and the token endpoint ----
      const appOf = (clientId: unknown) =>
        [...emu.accounts.values()].find((a) => typeof clientId === 'string' && a.credentials.client_id === clientId && a.credentials.redirect_uri);
      const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

      app.get('/oauth2/authorize', async (req, reply) => {
        const q = req.query as Record<string, string | undefined>;
        const acc = appOf(q.client_id);
        if (!acc) return reply.code(400).type('text/html').send('<!doctype html><p>This application is not registered.</p>');
        const action = `/oauth2/authorize?${new URLSearchParams({ client_id: q.client_id ?? '', scope: q.scope ?? '', state: q.state ?? '' })}`;
        return reply
          .type('text/html')
          .send(
            `<!doctype html><title>Square</title><h1>Allow this application to access ${esc(acc.locations[0]?.name ?? acc.id)}?</h1>` +
              `<p>Permissions: ${esc(q.scope ?? '')}</p><form method="post" action="${esc(action)}">` +
              `<button name="decision" value="allow">Allow</button><button name="decision" value="deny">Deny</button></form>`,
          );
      });
      app.post('/oauth2/authorize', async (req, reply) => {
        const q = req.query as Record<string, string | undefined>;
        const acc = appOf(q.client_id);
        if (!acc) return reply.code(400).type('text/html').send('<!doctype html><p>This application is not registered.</p>');
        // The redirect URL is the one registered for the application, never one from the query.
        const to = new URL(acc.credentials.redirect_uri!);
        if (q.state) to.searchParams.set('state', q.state);
        if ((req.body as { decision?: string } | undefined)?.decision !== 'allow') {
          to.searchParams.set('error', 'access_denied');
          to.searchParams.set('error_description', 'user_denied');
        } else {
          to.searchParams.set('code', issueCode(acc));
          to.searchParams.set('response_type', 'code');
        }
        return reply.redirect(to.toString(), 302);
      });

      app.post('/oauth2/token', async (req, reply) => {
        const b = (req.body ?? {}) as Record<string, unknown>;
        const acc = appOf(b.client_id);
        if (!acc) return errors(reply, 401, [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'Unknown client_id' }]);
        if (b.client_secret !== acc.credentials.client_secret)
          return errors(reply, 401, [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'Invalid client_secret' }]);
        let seller: SquareAccount | undefined;
        let refresh: string;
        if (b.grant_type === 'authorization_code') {
          const c = typeof b.code === 'string' ? shared.codes[b.code] : undefined;
          if (typeof b.code === 'string') delete shared.codes[b.code]; // single use
          if (!c || c.expiresAt <= Date.now())
            return errors(reply, 401, [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'Invalid authorization code' }]);
          seller = emu.accounts.get(c.accountId);
          refresh = `EQAA${randomBytes(24).toString('base64url')}`;
          if (seller) shared.refresh[refresh] = { accountId: seller.id };
        } else if (b.grant_type === 'refresh_token') {
          const r = typeof b.refresh_token === 'string' ? shared.refresh[b.refresh_token] : undefined;
          if (!r) return errors(reply, 401, [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'Invalid refresh token' }]);
          seller = emu.accounts.get(r.accountId);
          // Code flow: the same refresh token comes back.
          refresh = b.refresh_token as string;
        } else return invalid(reply, 'INVALID_VALUE', 'grant_type must be authorization_code or refresh_token', 'grant_type');
        if (!seller) return errors(reply, 401, [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'The seller is gone' }]);
        const t = issueAccess(seller);
        emu.touch();
        return {
          access_token: t.token,
          token_type: 'bearer',
          expires_at: new Date(t.expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          merchant_id: seller.merchantId,
          refresh_token: refresh,
          short_lived: false,
        };
      });

      app.post('/_control/accounts/:id/code', async (req, reply) => {
        const acc = emu.accounts.get((req.params as { id: string }).id);
        if (!acc) return reply.code(404).send({ error: 'no such account' });
        return { code: issueCode(acc) };
      });
      // The seller revokes the application in their Square dashboard: its tokens stop working and
      // oauth.authorization.revoked goes out (Square's webhook events reference; body GUESS beyond
      // merchant_id, type, event_id, created_at and data.object.revocation).
      app.post('/_control/accounts/:id/revoke', async (req, reply) => {
        const acc = emu.accounts.get((req.params as { id: string }).id);
        if (!acc) return reply.code(404).send({ error: 'no such account' });
        for (const [t, v] of Object.entries(shared.access)) if (v.accountId === acc.id) delete shared.access[t];
        for (const [t, v] of Object.entries(shared.refresh)) if (v.accountId === acc.id) delete shared.refresh[t];
        emu.touch();
        if (acc.webhookUrl) {
          const body = JSON.stringify({
            merchant_id: acc.merchantId,
            type: 'oauth.authorization.revoked',
            event_id: randomUUID(),
            created_at: new Date().toISOString(),
            data: { type: 'revocation', id: randomUUID(), object: { revocation: { revoked_at: new Date().toISOString(), revoker_type: 'MERCHANT' } } },
          });
          emu.sendWebhook(acc, { headers: { 'x-square-hmacsha256-signature': signNotification(acc.webhookSecret ?? '', acc.webhookUrl, body) }, body });
        }
        return { ok: true };
      });
      app.post('/_control/tokens', async (req) => {
        const b = (req.body ?? {}) as { expire?: boolean };
        if (b.expire !== false) for (const t of Object.values(shared.access)) t.expiresAt = Date.now() - 1;
        emu.touch();
        return { ok: true };
      });
    },

    async sale(emu, acc, input) {
      const v = findVariation(acc, input);
      if (!v) return { ok: false, error: 'no such item variation' };
      const loc = acc.locations[0]!;
      // A sale at the register: IN_STOCK -> SOLD for the units sold, occurring now (Square lets counts go negative).
      const c = applyChange(acc, v.id, loc.id, { kind: 'adjustment', qty: -input.qty, at: Date.now() });
      notify(emu, acc, [c]);
      return { ok: true, qty: quantityOf(c), count: countJson(c) };
    },

    async setLevel(emu, acc, input) {
      const v = findVariation(acc, input);
      if (!v) return { ok: false, error: 'no such item variation' };
      const loc = acc.locations[0]!;
      // The merchant recounts in the dashboard: a physical count occurring now.
      const c = applyChange(acc, v.id, loc.id, { kind: 'count', qty: input.qty, at: Date.now() });
      notify(emu, acc, [c]);
      return { ok: true, qty: quantityOf(c), count: countJson(c) };
    },

    state(acc) {
      const loc = acc.locations[0]!.id;
      return acc.variations.map((v) => {
        const c = acc.counts[countKey(v.id, loc)];
        return { externalId: v.id, sku: v.sku, name: v.itemName, qty: c ? quantityOf(c) : 0, available: null };
      });
    },
  };
  return new Emulator(spec, opts);
}
