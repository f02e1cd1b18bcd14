// Vinted web API emulator, written from docs/extension-protocol.md section 2 ("Extension <->
// Vinted"), never from StockClerk's Vinted channel or its browser extension (DESIGN.md invariant
// 9). Vinted publishes no seller API: section 2 is itself reverse-engineered, so every line of
// it is a GUESS; what this file adds beyond it is marked `GUESS:` where it is made.
//
// What is modelled (paths under the emulator's origin, which stands for the marketplace origin)
// - Session: cookie `_vinted_fr_session` (HttpOnly; SameSite=Lax; Path=/), set by the login form
//   (GET /member/login, POST /member/login with `login` and `password`, form or JSON; success
//   302 -> /). /api/v2 calls without a live session: 401 {"code":100,"message":"invalid_authentication_token"}.
// - CSRF: GET / (and an item's page) of a logged-in session carries <meta name="csrf-token">;
//   /api/v2 POST/PUT/PATCH/DELETE without header X-CSRF-Token equal to it: 401 {"code":106,...}.
// - Anti-bot (antibot.ts): per session (per client address without one) at most
//   `windowMaxRequests` requests per sliding `windowMs`, and mutations at least
//   `mutationIntervalMs` apart; beyond: 429, body {"url":"https://geo.captcha-delivery.com/captcha/?..."},
//   `Retry-After` in whole seconds (>= 1).
// - GET /api/v2/users/current; POST /api/v2/photos (multipart photo[type]=item, photo[temp_uuid],
//   photo[file]; the photo is then served at its `url`); POST /api/v2/item_upload/items (same
//   `upload_session_id` again answers the item it created, no second item); PUT
//   /api/v2/item_upload/items/{id}; PUT /api/v2/items/{id}/is_hidden; PUT
//   /api/v2/items/{id}/mark_as_sold; POST /api/v2/items/{id}/delete -> {"code":0}; unknown,
//   deleted or someone else's item: 404 {"code":104,"message":"not_found"}; GET /api/v2/items/{id}
//   (any member's item, another's hidden one 404); GET
//   /api/v2/wardrobe/{user_id}/items (page, per_page; pagination block); GET /api/v2/my_orders
//   (type=sold, status=all, page, per_page; newest first).
//
// Interface: its own small one (VintedEmulator below), NOT the kit's Emulator<A>. The kit puts an
// API-key authentication hook in front of every non-control path (the login form and the home
// page here need none), fixes the control bodies (`/_control/accounts` takes {id, credentials,
// items}; the sale takes {sku|externalId, qty}; the state is SKU/qty rows) and rate-limits with a
// token bucket per account, none of which fits a cookie session with a per-session anti-bot
// window. It has the same lifecycle surface as the kit's (`createVintedEmulator({stateFile})`,
// `await emu.listen(port)`, `emu.url`, `emu.close()`), so src/demo/emulated.ts can start it the
// same way, and it reuses the kit's StateFile.
//
// Control API (no session, no throttling; tests and the demo): control.ts.
//   POST /_control/accounts {login, password, items?, replace?}   -> 201 {user_id, login, created}
//   POST /_control/sessions {login}  -> {cookie_name, cookie_value, csrf_token, user_id}
//   POST /_control/accounts/:login/logout                          (every session of the member ends)
//   GET  /_control/accounts/:login/state -> {user_id, login, items:[{id, title, price, currency, status, ...}], deleted_item_ids, orders}
//   POST /_control/accounts/:login/sale {item_id, status?}          (a buyer buys: closed + a my_orders row)
//   POST /_control/accounts/:login/items {title, price, ...}        (the seller lists by hand on Vinted)
//   POST /_control/accounts/:login/items/:id/edit {title?, price?, description?, is_hidden?, is_reserved?}
//   GET/POST /_control/knobs, GET /_control/stats, GET/DELETE /_control/requests, POST /_control/reset
//
// Knobs (VintedKnobs, POST /_control/knobs or the `knobs` option): latencyMs, windowMs (60 000),
// windowMaxRequests (120), mutationIntervalMs (500), enforceAntiBot, sendRetryAfter,
// throttleNext (the next N /api/v2 calls answer 429), failNext + failStatus (the next N /api/v2
// calls answer 5xx, nothing applied), recordRequests (on: GET /_control/requests lists every
// non-control request with its session, CSRF verdict and Origin).
//
// FINDINGS for the extension author (emulators/vinted/extension.test.ts: Debian Chromium 156,
// headless, an MV3 stub extension with host_permissions ["http://127.0.0.1/*"], the seller logged
// in through the login form in a tab of the same profile):
// - fetch(url, {credentials: 'include'}) from the service worker carries the HttpOnly,
//   SameSite=Lax `_vinted_fr_session` cookie. So does fetch's default ('same-origin'): Chromium
//   treats a request to a host the extension has permission for like a same-origin one. Only
//   credentials: 'omit' leaves the cookie out. No CORS headers are needed (the emulator sends none).
// - The worker can GET / and read the csrf-token meta with a regex (no DOMParser in a worker), then
//   PUT with X-CSRF-Token; a FormData multipart photo upload works the same way.
// - Mutations arrive with `Origin: chrome-extension://<id>`, GETs with no Origin. The emulator does
//   not check Origin; the real Vinted might (GUESS: unknown), which would refuse the extension's
//   mutations whatever the cookie.
// - A login form POSTed from the worker (credentials: 'include') stores its Set-Cookie in the
//   profile's jar (the redirect is followed); later worker fetches carry it.
// - A match pattern without a port (http://127.0.0.1/*) covers the emulator's random port.
//
// GUESSes beyond section 2 (also marked where made): the anti-bot thresholds and that refused
// requests are not counted; the captcha URL's parameters; the 5xx body; the validation answer
// (400 code 99 with errors[{field, value}]) and its rules (title 1..100 chars, price > 0 with at
// most 2 decimals, currency 3 letters, status_id 1..6, at least one photo, only the member's own
// photos); that an edit may leave fields out; that a sold item cannot be edited or hidden;
// that another member's item can be read by id unless hidden;
// mark_as_sold / delete of a sold item; wardrobe order (newest first), per_page default 20 and
// max 96, another member's wardrobe hides hidden items; my_orders per_page default 20 max 100,
// `status` values and `date` format; `updated_at_ts` in unix seconds; id ranges; photos served
// from the same origin; a failed login answers 422 with the form; a logged-out page has no
// csrf-token meta; sessions never expire.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AntiBot, captchaBody } from './antibot.ts';
import { installControl } from './control.ts';
import { BAD_CSRF, invalid, NO_SESSION, NOT_FOUND, notFound, readItem, VintedError } from './items.ts';
import { homePage, itemPage, loginPage, notFoundPage } from './pages.ts';
import { amount, itemJson, orderJson, paginate, type Member, type Session, VintedStore } from './store.ts';

export const SESSION_COOKIE = '_vinted_fr_session';

export interface VintedKnobs {
  /** Added before every non-control answer. */
  latencyMs: number;
  /** Anti-bot: the sliding window requests are counted in (GUESS: 60 s). */
  windowMs: number;
  /** Anti-bot: requests per session per window (GUESS: 120). */
  windowMaxRequests: number;
  /** Anti-bot: least time between two mutations of one session (GUESS: 500 ms). */
  mutationIntervalMs: number;
  /** Off: no anti-bot refusals at all (throttleNext still applies). */
  enforceAntiBot: boolean;
  /** Send `Retry-After` with a 429 (section 2: "when present"). */
  sendRetryAfter: boolean;
  /** The next N /api/v2 calls answer the anti-bot 429 (Retry-After 1). */
  throttleNext: number;
  /** The next N /api/v2 calls answer `failStatus`; nothing is applied. */
  failNext: number;
  failStatus: number;
  /** Keep every non-control request for GET /_control/requests. */
  recordRequests: boolean;
}

export const DEFAULT_VINTED_KNOBS: VintedKnobs = {
  latencyMs: 0,
  windowMs: 60_000,
  windowMaxRequests: 120,
  mutationIntervalMs: 500,
  enforceAntiBot: true,
  sendRetryAfter: true,
  throttleNext: 0,
  failNext: 0,
  failStatus: 500,
  recordRequests: true,
};

export interface VintedEmulatorOptions {
  /** JSON file holding Vinted's state across restarts (photos in `<file>.photos/`); none = in memory. */
  stateFile?: string | null;
  saveDelayMs?: number;
  knobs?: Partial<VintedKnobs>;
}

/** One request as the emulator received it (GET /_control/requests). */
export interface VintedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  status: number;
  /** The member whose live session cookie came with it, else null. */
  login: string | null;
  /** A `_vinted_fr_session` cookie came (live or not). */
  session_cookie: boolean;
  /** X-CSRF-Token: absent, equal to the session's token, or not. */
  csrf: 'missing' | 'ok' | 'wrong';
  origin: string | null;
  content_type: string | null;
  /** Parsed JSON or form body (password masked); multipart as {fields, files:[{field, name, type, bytes}]}. */
  body: unknown;
  /** Why the emulator refused it before the handler, when it did. */
  refused: 'window' | 'mutation_interval' | 'throttle_next' | 'fail_next' | 'no_session' | 'csrf' | null;
  at: number;
}

export interface VintedStats {
  calls: number;
  throttled: number;
  failed: number;
}

interface Ctx {
  session: Session | null;
  member: Member | null;
  sessionCookie: boolean;
  csrf: VintedRequest['csrf'];
  refused: VintedRequest['refused'];
  recordBody?: unknown;
}
type VReq = FastifyRequest & { vinted?: Ctx };
export const ctxOf = (req: FastifyRequest): Ctx => (req as VReq).vinted!;

const MAX_RECORDED = 10_000;
const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function cookieValue(req: FastifyRequest, name: string): string | null {
  const raw = req.headers.cookie;
  if (!raw) return null;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pathOf = (req: FastifyRequest) => req.url.split('?')[0]!;
const intParam = (v: unknown, dflt: number, min: number, max: number): number => {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : dflt;
  return Math.min(max, Math.max(min, n));
};

export class VintedEmulator {
  readonly app: FastifyInstance;
  readonly store: VintedStore;
  knobs: VintedKnobs;
  readonly stats: VintedStats = { calls: 0, throttled: 0, failed: 0 };
  readonly requests: VintedRequest[] = [];
  readonly antibot = new AntiBot();
  url = '';

  constructor(opts: VintedEmulatorOptions = {}) {
    this.knobs = { ...DEFAULT_VINTED_KNOBS, ...opts.knobs };
    this.store = new VintedStore(opts.stateFile ?? null, opts.saveDelayMs);
    this.app = Fastify({ logger: false, bodyLimit: 20 * 1024 * 1024 });
    this.installParsers();
    this.installFront();
    installControl(this);
    this.installPages();
    this.installApi();
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    const addr = await this.app.listen({ port, host });
    this.url = addr.replace('localhost', '127.0.0.1');
    return this.url;
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.store.flush();
  }

  /** Starts a logged-in session for a member without the login form (tests put the cookie into a browser). */
  session(login: string): Session | null {
    return this.store.members.has(login) ? this.store.openSession(login) : null;
  }

  // ---- body parsers ----------------------------------------------------------------------------
  private installParsers(): void {
    const app = this.app;
    // A PUT with an empty JSON body (mark_as_sold) is {}.
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, (body as string).trim() === '' ? {} : (JSON.parse(body as string) as unknown));
      } catch {
        done(new VintedError(400, { code: 99, message: 'invalid_json' }), undefined); // GUESS: code
      }
    });
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    // Multipart is parsed in the photo handler (the WHATWG FormData parser), after session and CSRF.
    app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.setErrorHandler((e, _req, reply) => {
      if (e instanceof VintedError) return reply.code(e.status).send(e.body);
      const status = (e as { statusCode?: number }).statusCode ?? 500;
      if (status >= 500) return reply.code(500).send({ code: 1, message: 'internal_error' });
      return reply.code(status).send({ code: 99, message: (e as Error).message }); // GUESS
    });
    app.setNotFoundHandler((req, reply) => {
      if (pathOf(req).startsWith('/api/')) return reply.code(404).send(NOT_FOUND);
      return reply
        .code(404)
        .type('text/html; charset=utf-8')
        .send(notFoundPage(ctxOf(req)?.session ?? null));
    });
  }

  // ---- session, CSRF, anti-bot and faults, in front of everything but /_control ------------------
  private installFront(): void {
    const app = this.app;
    app.addHook('onRequest', async (req, reply) => {
      const path = pathOf(req);
      if (path.startsWith('/_control')) return;
      this.stats.calls++;
      const value = cookieValue(req, SESSION_COOKIE);
      const s = value ? (this.store.sessions.get(value) ?? null) : null;
      const member = s ? (this.store.members.get(s.login) ?? null) : null;
      const session = member ? s : null;
      const sent = req.headers['x-csrf-token'];
      const csrf: Ctx['csrf'] = sent === undefined ? 'missing' : session && sent === session.csrf ? 'ok' : 'wrong';
      const ctx: Ctx = { session, member, sessionCookie: value !== null, csrf, refused: null };
      (req as VReq).vinted = ctx;
      if (this.knobs.latencyMs > 0) await sleep(this.knobs.latencyMs);
      // Photos come from a CDN: no session, no anti-bot.
      if (path.startsWith('/photos/')) return;
      const api = path.startsWith('/api/');
      const mutation = MUTATIONS.has(req.method);
      // The anti-bot wall stands in front of the site: it answers before the application sees the session.
      if (api && this.knobs.throttleNext > 0) {
        this.knobs.throttleNext--;
        return this.throttle(req, reply, 1, 'throttle_next');
      }
      if (this.knobs.enforceAntiBot) {
        const v = this.antibot.check(session ? `s:${session.value}` : `ip:${req.ip}`, mutation, this.knobs);
        if (!v.ok) return this.throttle(req, reply, v.retryAfter, v.reason!);
      }
      if (!api) return;
      if (!session) {
        ctx.refused = 'no_session';
        return reply.code(401).send(NO_SESSION);
      }
      if (mutation && csrf !== 'ok') {
        ctx.refused = 'csrf';
        return reply.code(401).send(BAD_CSRF);
      }
      if (this.knobs.failNext > 0) {
        this.knobs.failNext--;
        this.stats.failed++;
        ctx.refused = 'fail_next';
        // GUESS: the 5xx body (Vinted's edge answers an HTML or JSON error page).
        return reply.code(this.knobs.failStatus).send({ code: 1, message: 'internal_error' });
      }
    });
    app.addHook('onResponse', async (req, reply) => {
      const path = pathOf(req);
      if (path.startsWith('/_control')) return;
      if (req.method !== 'GET' && req.method !== 'HEAD') this.store.touch();
      if (!this.knobs.recordRequests) return;
      const ctx = ctxOf(req);
      const ct = req.headers['content-type'];
      let body: unknown = ctx?.recordBody ?? req.body ?? null;
      if (Buffer.isBuffer(body)) body = { bytes: body.length };
      if (body && typeof body === 'object' && 'password' in body) body = { ...body, password: '***' };
      this.requests.push({
        method: req.method,
        url: req.url,
        status: reply.statusCode,
        login: ctx?.session?.login ?? null,
        session_cookie: ctx?.sessionCookie ?? false,
        csrf: ctx?.csrf ?? 'missing',
        origin: typeof req.headers.origin === 'string' ? req.headers.origin : null,
        content_type: typeof ct === 'string' ? ct.split(';')[0]!.trim() : null,
        body,
        refused: ctx?.refused ?? null,
        at: Date.now(),
      });
      if (this.requests.length > MAX_RECORDED) this.requests.splice(0, this.requests.length - MAX_RECORDED);
    });
  }

  private throttle(req: FastifyRequest, reply: FastifyReply, retryAfter: number, reason: NonNullable<Ctx['refused']>): FastifyReply {
    this.stats.throttled++;
    ctxOf(req).refused = reason;
    if (this.knobs.sendRetryAfter) void reply.header('retry-after', String(retryAfter));
    return reply.code(429).send(captchaBody(`${this.url}${req.url}`));
  }

  // ---- HTML: home, login form, item pages, photos ------------------------------------------------
  private installPages(): void {
    const app = this.app;
    const html = (reply: FastifyReply, status: number, text: string) => reply.code(status).type('text/html; charset=utf-8').send(text);
    app.get('/', async (req, reply) => {
      const { session, member } = ctxOf(req);
      return html(reply, 200, homePage(session, member));
    });
    app.get('/member/login', async (req, reply) => {
      if (ctxOf(req).session) return reply.redirect('/');
      return html(reply, 200, loginPage(null));
    });
    app.post('/member/login', async (req, reply) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const login = typeof b.login === 'string' ? b.login.trim() : '';
      const m = this.store.members.get(login);
      if (!m || typeof b.password !== 'string' || b.password !== m.password) {
        // GUESS: 422 with the form again (no cookie).
        return html(reply, 422, loginPage('Incorrect login or password', login));
      }
      const s = this.store.openSession(m.login);
      void reply.header('set-cookie', `${SESSION_COOKIE}=${s.value}; Path=/; HttpOnly; SameSite=Lax`);
      return reply.redirect('/', 302);
    });
    app.post('/member/logout', async (req, reply) => {
      const { session } = ctxOf(req);
      if (session) this.store.sessions.delete(session.value);
      void reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
      return reply.redirect('/', 302);
    });
    app.get('/items/:slug', async (req, reply) => {
      const id = Number(/^(\d+)/.exec((req.params as { slug: string }).slug)?.[1] ?? NaN);
      for (const m of this.store.members.values()) {
        const item = this.store.item(m, id);
        if (!item) continue;
        const photos = item.photoIds.flatMap((p) => (this.store.photos.has(p) ? [`${this.url}${this.store.photos.get(p)!.path}`] : []));
        return html(reply, 200, itemPage(ctxOf(req).session, item, `${amount(item.price)} ${item.currency}`, photos));
      }
      return html(reply, 404, notFoundPage(ctxOf(req).session));
    });
    app.get('/photos/:id/:name', async (req, reply) => {
      const p = this.store.photos.get(Number((req.params as { id: string }).id));
      const data = p && req.url.split('?')[0] === p.path ? this.store.photoData(p) : null;
      if (!p || !data) return reply.code(404).type('text/plain').send('not found');
      return reply.type(p.mime).header('cache-control', 'public, max-age=31536000, immutable').send(data);
    });
  }

  // ---- the web API (section 2) -------------------------------------------------------------------
  private installApi(): void {
    const app = this.app;
    const store = this.store;
    const me = (req: FastifyRequest): Member => ctxOf(req).member!;
    const ownItem = (req: FastifyRequest) => {
      const id = Number((req.params as { id: string }).id);
      const item = Number.isSafeInteger(id) ? store.item(me(req), id) : undefined;
      if (!item) throw notFound();
      return item;
    };
    const answer = (item: Parameters<typeof itemJson>[1]) => ({ item: itemJson(this.url, item, store.photos) });

    app.get('/api/v2/users/current', async (req) => {
      const m = me(req);
      return { user: { id: m.id, login: m.login } };
    });

    app.post('/api/v2/photos', async (req) => {
      const ct = req.headers['content-type'] ?? '';
      if (!ct.startsWith('multipart/form-data') || !Buffer.isBuffer(req.body)) throw invalid('photo', 'must be sent as multipart/form-data');
      let form: FormData;
      try {
        form = await new Response(req.body, { headers: { 'content-type': ct } }).formData();
      } catch {
        throw invalid('photo', 'multipart body does not parse');
      }
      const fields: Record<string, string> = {};
      const files: Array<{ field: string; name: string; type: string; bytes: number }> = [];
      for (const [k, v] of form) {
        if (typeof v === 'string') fields[k] = v;
        else files.push({ field: k, name: v.name, type: v.type, bytes: v.size });
      }
      ctxOf(req).recordBody = { fields, files };
      const type = form.get('photo[type]');
      if (type !== 'item') throw invalid('photo[type]', 'must be item');
      const file = form.get('photo[file]');
      if (!file || typeof file === 'string') throw invalid('photo[file]', 'is required');
      if (file.size === 0) throw invalid('photo[file]', 'is empty');
      const bytes = Buffer.from(await file.arrayBuffer());
      // GUESS: which images are taken; the type comes from the bytes, not the part's header.
      const mime = sniff(bytes);
      if (!mime) throw invalid('photo[file]', 'is not a JPEG, PNG or WebP image');
      const tempUuid = form.get('photo[temp_uuid]');
      const p = store.addPhoto(me(req).id, typeof tempUuid === 'string' ? tempUuid : null, mime, bytes);
      return { id: p.id, url: `${this.url}${p.path}`, temp_uuid: p.tempUuid };
    });

    app.post('/api/v2/item_upload/items', async (req) => {
      const m = me(req);
      const b = (req.body ?? {}) as Record<string, unknown>;
      const sessionId = typeof b.upload_session_id === 'string' && b.upload_session_id !== '' ? b.upload_session_id : null;
      // The same upload session again: the item it created, as it is now (nothing new).
      if (sessionId && m.uploads[sessionId] !== undefined) {
        const done = m.items.find((i) => i.id === m.uploads[sessionId]);
        if (done) return answer(done);
      }
      const f = readItem(req.body, m, store, true);
      const item = store.newItem(m, {
        title: f.title!,
        description: f.description ?? '',
        brand: f.brand ?? null,
        size: f.size ?? null,
        statusId: f.statusId ?? null,
        price: f.price!,
        currency: f.currency!,
        photoIds: f.photoIds ?? [],
        isHidden: false,
        // GUESS: an upload without upload_session_id is taken (no idempotency for it).
        uploadSessionId: sessionId,
        tempUuid: f.tempUuid ?? null,
      });
      if (sessionId) m.uploads[sessionId] = item.id;
      return answer(item);
    });

    app.put('/api/v2/item_upload/items/:id', async (req) => {
      const item = ownItem(req);
      const b = (req.body ?? {}) as { item?: { id?: unknown } };
      // GUESS: the body's item.id, when given, must be the path's.
      if (b.item && b.item.id !== undefined && b.item.id !== null && b.item.id !== item.id) throw invalid('id', 'does not match the item');
      // GUESS: a sold item cannot be edited.
      if (item.isClosed) throw invalid('item', 'sold items can not be edited');
      const f = readItem(req.body, me(req), store, false);
      if (f.title !== undefined) item.title = f.title;
      if (f.description !== undefined) item.description = f.description;
      if (f.brand !== undefined) item.brand = f.brand;
      if (f.size !== undefined) item.size = f.size;
      if (f.statusId !== undefined) item.statusId = f.statusId;
      if (f.price !== undefined) item.price = f.price;
      if (f.currency !== undefined) item.currency = f.currency;
      if (f.photoIds !== undefined) item.photoIds = f.photoIds;
      item.updatedAt = Date.now();
      return answer(item);
    });

    app.get('/api/v2/items/:id', async (req) => {
      const id = Number((req.params as { id: string }).id);
      if (!Number.isSafeInteger(id)) throw notFound();
      const self = me(req);
      for (const m of store.members.values()) {
        const item = store.item(m, id);
        // GUESS: any member's item can be read (its page is public), but another member's hidden item is not found.
        if (item && (m.id === self.id || !item.isHidden)) return answer(item);
      }
      throw notFound();
    });

    app.put('/api/v2/items/:id/is_hidden', async (req) => {
      const item = ownItem(req);
      const b = (req.body ?? {}) as { is_hidden?: unknown };
      if (typeof b.is_hidden !== 'boolean') throw invalid('is_hidden', 'must be true or false');
      if (item.isClosed) throw invalid('item', 'sold items can not be hidden'); // GUESS
      if (item.isHidden !== b.is_hidden) {
        item.isHidden = b.is_hidden;
        item.updatedAt = Date.now();
      }
      return answer(item);
    });

    app.put('/api/v2/items/:id/mark_as_sold', async (req) => {
      const item = ownItem(req);
      // GUESS: marking a sold item sold again answers it unchanged; no my_orders row (no buyer on Vinted).
      if (!item.isClosed) {
        item.isClosed = true;
        item.isReserved = false;
        item.updatedAt = Date.now();
      }
      return answer(item);
    });

    app.post('/api/v2/items/:id/delete', async (req) => {
      const item = ownItem(req);
      // GUESS: any item can be deleted, a sold one too (its my_orders row stays).
      item.deleted = true;
      item.updatedAt = Date.now();
      return { code: 0 };
    });

    app.get('/api/v2/wardrobe/:user_id/items', async (req) => {
      const owner = store.memberById(Number((req.params as { user_id: string }).user_id));
      if (!owner) throw notFound();
      const q = req.query as Record<string, string | undefined>;
      // GUESS: per_page default 20, at most 96 (section 2's example asks for 96).
      const perPage = intParam(q.per_page, 20, 1, 96);
      const page = intParam(q.page, 1, 1, 1_000_000);
      const self = owner.id === me(req).id;
      // GUESS: newest first; another member sees no hidden items.
      const all = owner.items.filter((i) => !i.deleted && (self || !i.isHidden)).sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
      const { rows, pagination } = paginate(all, page, perPage);
      return { items: rows.map((i) => itemJson(this.url, i, store.photos)), pagination };
    });

    app.get('/api/v2/my_orders', async (req) => {
      const m = me(req);
      const q = req.query as Record<string, string | undefined>;
      const type = q.type ?? 'sold';
      if (type !== 'sold' && type !== 'purchased') throw invalid('type', 'must be sold or purchased');
      const status = q.status ?? 'all';
      // GUESS: per_page default 20, at most 100; members here buy nothing, so `purchased` is empty.
      const perPage = intParam(q.per_page, 20, 1, 100);
      const page = intParam(q.page, 1, 1, 1_000_000);
      const all = (type === 'sold' ? m.orders : [])
        .filter((o) => status === 'all' || o.status === status)
        .sort((a, b) => b.date - a.date || b.transactionId - a.transactionId);
      const { rows, pagination } = paginate(all, page, perPage);
      return { my_orders: rows.map(orderJson), pagination };
    });
  }
}

/** The image type of `b` by its magic bytes, or null. */
function sniff(b: Buffer): string | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b.length >= 12 && b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return null;
}

export function createVintedEmulator(opts: VintedEmulatorOptions = {}): VintedEmulator {
  return new VintedEmulator(opts);
}
