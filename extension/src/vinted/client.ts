// Vinted's web API as the seller's own browser calls it (docs/extension-protocol.md, section 2):
// the session cookie goes along with each call (the Vinted sites are host permissions), mutations
// carry the CSRF token that Vinted's HTML pages embed, and every answer that is not a success
// becomes a JobFailure of the right kind (errors.ts). The fetch is injected (the origin guard in
// the extension, a fake in unit tests).
import type { Fetch } from '../origin-guard.ts';
import { JobFailure } from '../protocol.ts';
import { failureOf, failureOfThrown } from './errors.ts';
import { CURRENT_USER, type VintedRequest } from './requests.ts';

/** The token of `<meta name="csrf-token" content="...">`, attributes in either order. */
export function csrfTokenOf(html: string): string | null {
  for (const tag of html.match(/<meta\b[^>]*>/gi) ?? []) {
    if (!/\bname\s*=\s*["']csrf-token["']/i.test(tag)) continue;
    const m = tag.match(/\bcontent\s*=\s*["']([^"']+)["']/i);
    if (m) return m[1]!;
  }
  return null;
}

export interface VintedUser {
  id: string;
  login: string;
}

async function bodyOf(res: Response): Promise<unknown> {
  const text = await res.text().catch(() => '');
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Least time between two mutations (GUESS: Vinted's anti-bot layer refuses a session that posts
 * faster than a person clicks; the emulator's guess is 500 ms). A publish is several mutations in
 * a row (each photo, then the item): paced, not fired back to back.
 */
export const MUTATION_GAP_MS = 800;
/** A 429 asking for at most this long is waited out in place, once, rather than failing the whole job. */
const WAIT_IN_PLACE_MS = 3_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class VintedClient {
  readonly origin: string;
  private readonly fetch: Fetch;
  private readonly mutationGapMs: number;
  private csrf: string | null = null;
  private lastMutation = 0;

  constructor(origin: string, fetch: Fetch, opts: { mutationGapMs?: number } = {}) {
    this.origin = origin;
    this.fetch = fetch;
    this.mutationGapMs = opts.mutationGapMs ?? MUTATION_GAP_MS;
  }

  private async pace(): Promise<void> {
    const wait = this.lastMutation + this.mutationGapMs - Date.now();
    if (wait > 0) await sleep(wait);
    this.lastMutation = Date.now();
  }

  private async call(url: string, init: RequestInit, what: string): Promise<{ res: Response; body: unknown }> {
    let res: Response;
    try {
      res = await this.fetch(url, init);
    } catch (err) {
      throw failureOfThrown(err, what);
    }
    return { res, body: await bodyOf(res) };
  }

  private check(res: Response, body: unknown, what: string): void {
    const failure = failureOf({ status: res.status, type: res.type, body, retryAfter: res.headers.get('retry-after') }, what);
    if (failure) throw failure;
  }

  /** The CSRF token from the home page of the seller's session (fetched once, again when refused). */
  private async csrfToken(): Promise<string> {
    if (this.csrf) return this.csrf;
    const what = 'reading the CSRF token';
    const { res, body } = await this.call(`${this.origin}/`, { headers: { accept: 'text/html' } }, what);
    this.check(res, body, what);
    const token = typeof body === 'string' ? csrfTokenOf(body) : null;
    // No token on the page: Vinted shows a logged-out page (or changed its markup).
    if (!token) throw new JobFailure('session', "Vinted's page carries no CSRF token: log in to Vinted in this browser");
    this.csrf = token;
    return token;
  }

  /** Sends a JSON request (or a prepared FormData) and returns Vinted's parsed answer; failures throw. */
  async send(req: VintedRequest, form?: FormData): Promise<unknown> {
    const mutation = req.method !== 'GET';
    let csrfRetried = false;
    let waited = false;
    for (;;) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (mutation) {
        headers['x-csrf-token'] = await this.csrfToken();
        await this.pace();
      }
      let body: RequestInit['body'];
      if (form) body = form;
      else if (req.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(req.json);
      }
      const { res, body: answer } = await this.call(`${this.origin}${req.path}`, { method: req.method, headers, body }, req.what);
      const code = answer && typeof answer === 'object' ? (answer as { code?: unknown }).code : undefined;
      // A stale CSRF token (code 106): read a fresh one and ask once more.
      if (mutation && res.status === 401 && code === 106 && !csrfRetried) {
        csrfRetried = true;
        this.csrf = null;
        continue;
      }
      const failure = failureOf({ status: res.status, type: res.type, body: answer, retryAfter: res.headers.get('retry-after') }, req.what);
      // A short throttle mid-job (between a photo and the item): wait it out once, keep the job whole.
      if (failure?.kind === 'throttled' && !waited && (failure.retryAfterMs ?? Infinity) <= WAIT_IN_PLACE_MS) {
        waited = true;
        await sleep(failure.retryAfterMs!);
        continue;
      }
      if (failure) throw failure;
      return answer;
    }
  }

  /** The logged-in seller, or null when Vinted says there is no session (other failures throw). */
  async currentUser(): Promise<VintedUser | null> {
    try {
      const body = (await this.send(CURRENT_USER)) as { user?: { id?: unknown; login?: unknown } } | null;
      const u = body?.user;
      if (!u || (typeof u.id !== 'number' && typeof u.id !== 'string')) return null;
      return { id: String(u.id), login: typeof u.login === 'string' ? u.login : String(u.id) };
    } catch (err) {
      if (err instanceof JobFailure && err.kind === 'session') {
        this.csrf = null;
        return null;
      }
      throw err;
    }
  }

  /** Uploads one photo (multipart, as Vinted's form does) and returns its Vinted photo id. */
  async uploadPhoto(file: Blob, tempUuid: string, name: string): Promise<number> {
    const form = new FormData();
    form.set('photo[type]', 'item');
    form.set('photo[temp_uuid]', tempUuid);
    form.set('photo[file]', file, name);
    const body = (await this.send({ method: 'POST', path: '/api/v2/photos', what: 'uploading a photo' }, form)) as { id?: unknown } | null;
    const id = Number(body?.id);
    if (!Number.isInteger(id)) throw new JobFailure('network', "Vinted's answer to a photo upload carries no photo id");
    return id;
  }
}
