// The extension's socket to the paired StockClerk (docs/extension-protocol.md, section 1): hello
// with the token, welcome names the one marketplace origin, status reports the Vinted session,
// jobs come in and results go out (acked results are forgotten), ping gets pong. A dropped socket
// reconnects with exponential backoff; a refused token (4401) does not, until the seller pairs
// again. The service worker may be stopped at any time: nothing here relies on living long, the
// keep-alive alarm (service-worker.ts) calls ensure() and a new worker picks up where this left.
import { guardedFetch, isAllowed, originOf, socketUrl } from '../origin-guard.ts';
import { CLOSE_REFUSED, CLOSE_REPLACED, JobFailure, parseServerMessage, type ExtensionMessage, type Job, type JobOutcome } from '../protocol.ts';
import { loadPairing, loadState, patchState, tokenTail, type Pairing } from '../storage.ts';
import { VintedClient } from '../vinted/client.ts';
import type { JobDeps } from '../vinted/jobs.ts';
import { JobRunner } from './job-runner.ts';
import { forgetResult } from './result-cache.ts';

const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;
/** How often the Vinted session is checked again: often while logged out (the seller is logging in), rarely while logged in (a job that finds it gone says so). */
const SESSION_RECHECK_OUT_MS = 10_000;
const SESSION_RECHECK_IN_MS = 5 * 60_000;

export class Link {
  private ws: WebSocket | null = null;
  private pairing: Pairing | null = null;
  private marketplace: string | null = null;
  private vinted: VintedClient | null = null;
  private backoff = BACKOFF_MIN_MS;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private sessionTimer: ReturnType<typeof setTimeout> | null = null;
  private loggedIn: boolean | null = null;
  private account: string | null = null;
  private sessionCheckedAt = 0;
  private readonly runner: JobRunner;
  /** The one fetch every call goes through: only the paired StockClerk and the welcome's marketplace origin. */
  private readonly fetch = guardedFetch(() => [this.pairing?.url, this.marketplace]);

  constructor() {
    this.runner = new JobRunner(
      () => this.jobDeps(),
      (job, outcome) => void this.noted(job, outcome),
    );
  }

  /** Connects if paired and not connected (called at start-up, by the alarm, when the pairing changes). */
  async ensure(): Promise<void> {
    const pairing = await loadPairing();
    if (!pairing) return this.drop('unpaired');
    if (this.pairing && (this.pairing.url !== pairing.url || this.pairing.token !== pairing.token)) this.drop('connecting');
    this.pairing = pairing;
    const state = await loadState();
    if (state.refused_token === tokenTail(pairing.token)) return;
    if (this.ws || this.reconnectTimer) {
      if (
        this.ws?.readyState === WebSocket.OPEN &&
        this.loggedIn !== null &&
        Date.now() - this.sessionCheckedAt > (this.loggedIn ? SESSION_RECHECK_IN_MS : SESSION_RECHECK_OUT_MS)
      )
        void this.checkSession();
      return;
    }
    this.connect(pairing);
  }

  /** The pairing changed (saved or removed in the options page): start over with it. */
  async repair(): Promise<void> {
    this.drop('connecting');
    this.backoff = BACKOFF_MIN_MS;
    await patchState({ refused_token: null, last_error: null });
    await this.ensure();
  }

  private connect(pairing: Pairing): void {
    let url: string;
    try {
      url = socketUrl(pairing.url);
    } catch (err) {
      void patchState({ connection: 'disconnected', last_error: (err as Error).message });
      return;
    }
    void patchState({ connection: 'connecting' });
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => this.send({ type: 'hello', token: pairing.token, version: chrome.runtime.getManifest().version }, ws);
    ws.onmessage = (ev) => void this.onMessage(ws, ev.data);
    ws.onclose = (ev) => void this.onClose(ws, ev.code, ev.reason);
    // An error is always followed by a close: handled there.
    ws.onerror = () => undefined;
  }

  private send(msg: ExtensionMessage, ws = this.ws): void {
    if (ws && ws.readyState === WebSocket.OPEN && ws === this.ws) ws.send(JSON.stringify(msg));
  }

  private async onMessage(ws: WebSocket, data: unknown): Promise<void> {
    if (ws !== this.ws) return;
    const msg = parseServerMessage(data);
    if (!msg) return;
    switch (msg.type) {
      case 'welcome':
        return this.onWelcome(msg.marketplace_origin, msg.channel_name);
      case 'job':
        return this.onJob(msg.job);
      case 'ack':
        return forgetResult(msg.job_id);
      case 'ping':
        return this.send({ type: 'pong' });
      case 'error':
        await patchState({ last_error: `StockClerk: ${msg.message}` });
    }
  }

  private async onWelcome(marketplace: string, channelName: string): Promise<void> {
    const origin = originOf(marketplace);
    // Vinted is only ever reached over https; loopback (an emulator on this machine) is the exception.
    const local = origin && /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(origin);
    if (!origin || (!origin.startsWith('https://') && !local)) {
      await patchState({ last_error: `StockClerk named an unusable marketplace origin (${marketplace})` });
      return this.drop('disconnected');
    }
    this.marketplace = origin;
    this.vinted = new VintedClient(origin, this.fetch);
    this.backoff = BACKOFF_MIN_MS;
    const permitted = await chrome.permissions.contains({ origins: [`${origin}/*`] });
    await patchState({
      connection: 'connected',
      channel_name: channelName,
      marketplace_origin: origin,
      last_error: permitted ? null : `This extension has no permission to call ${origin}: it cannot run jobs there`,
    });
    await this.checkSession(true);
  }

  /** Asks Vinted who is logged in and tells StockClerk when that changed (or when `always`). */
  async checkSession(always = false): Promise<void> {
    const vinted = this.vinted;
    if (!vinted) return;
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
    this.sessionTimer = null;
    this.sessionCheckedAt = Date.now();
    try {
      const user = await vinted.currentUser();
      await this.setSession(!!user, user?.login ?? null, always);
    } catch (err) {
      // Throttled or offline: the session is what it was; say why we could not tell.
      await patchState({ last_error: `Checking the Vinted session: ${(err as Error).message}` });
    }
    if (this.loggedIn === false && vinted === this.vinted) this.sessionTimer = setTimeout(() => void this.checkSession(), SESSION_RECHECK_OUT_MS);
  }

  private async setSession(loggedIn: boolean, account: string | null, always = false): Promise<void> {
    const changed = loggedIn !== this.loggedIn || account !== this.account;
    this.loggedIn = loggedIn;
    this.account = account;
    if (changed || always) this.send({ type: 'status', logged_in: loggedIn, account });
    await patchState({ logged_in: loggedIn, account });
  }

  private jobDeps(): JobDeps | null {
    const vinted = this.vinted;
    const stockclerk = this.pairing?.url;
    if (!vinted || !stockclerk) return null;
    return {
      vinted,
      fetchPhoto: async (url) => {
        // Photos come from the paired StockClerk only, never from the marketplace or elsewhere.
        if (!isAllowed(url, [stockclerk])) throw new JobFailure('rejected', `a photo URL is not on the paired StockClerk (${originOf(url) ?? url})`);
        let res: Response;
        try {
          res = await this.fetch(url, { credentials: 'omit', redirect: 'error' });
        } catch (err) {
          throw new JobFailure('network', `downloading a photo from StockClerk: ${(err as Error).message}`);
        }
        if (res.status === 404) throw new JobFailure('rejected', `a photo is gone from StockClerk (${url})`);
        if (!res.ok) throw new JobFailure('network', `StockClerk answered ${res.status} for a photo`);
        return res.blob();
      },
    };
  }

  private async onJob(job: Job): Promise<void> {
    const ws = this.ws;
    const outcome = await this.runner.handle(job);
    // Sent on the socket the job came on; if that one is gone the result stays cached for the resend.
    if (ws === this.ws) this.send({ type: 'result', job_id: job.id, ...outcome });
  }

  private async noted(job: Job, outcome: JobOutcome): Promise<void> {
    await patchState({
      last_job: { id: job.id, kind: job.kind, ok: outcome.ok, at: new Date().toISOString() },
      ...(outcome.ok ? {} : { last_error: `${job.kind}: ${outcome.error.message}` }),
    });
    if (!outcome.ok && outcome.error.kind === 'session') await this.setSession(false, null);
    else if (outcome.ok && this.loggedIn === false) await this.checkSession();
  }

  private async onClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    if (ws !== this.ws) return;
    this.ws = null;
    // No new job starts without a socket, but the one running finishes: its result is kept for the
    // resend. So the marketplace stays callable (the same pairing's last welcome named it; the next
    // welcome or an unpairing replaces it). Cleared here, the running job's next Vinted call was
    // refused by the origin guard, a refusal is final, and the resent job failed for good (a hide
    // never done: the item stayed for sale on Vinted).
    this.vinted = null;
    this.loggedIn = null;
    if (code === CLOSE_REFUSED) {
      this.marketplace = null;
      // The token is unknown or revoked: trying again cannot help. The seller pairs again.
      await patchState({
        connection: 'refused',
        refused_token: this.pairing ? tokenTail(this.pairing.token) : null,
        last_error: `StockClerk refused the token (${reason || 'revoked or unknown'}): issue a new one and pair again`,
      });
      return;
    }
    // Another browser took this channel: do not fight it for the socket; come back slowly.
    if (code === CLOSE_REPLACED) this.backoff = BACKOFF_MAX_MS;
    await patchState({
      connection: code === CLOSE_REPLACED ? 'replaced' : 'disconnected',
      last_error:
        code === CLOSE_REPLACED ? 'Another browser connected for this channel' : `Disconnected from StockClerk (${code}${reason ? ` ${reason}` : ''})`,
    });
    const wait = Math.round(this.backoff * (0.75 + Math.random() * 0.5));
    this.backoff = Math.min(BACKOFF_MAX_MS, this.backoff * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.ensure();
    }, wait);
  }

  /** Closes the socket and stops reconnecting, leaving `connection` as given. */
  private drop(connection: 'unpaired' | 'connecting' | 'disconnected'): void {
    const ws = this.ws;
    this.ws = null;
    this.vinted = null;
    this.marketplace = null;
    this.loggedIn = null;
    if (connection === 'unpaired') this.pairing = null;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
    this.reconnectTimer = this.sessionTimer = null;
    ws?.close(1000, 'unpaired');
    void patchState(
      connection === 'unpaired'
        ? { connection, channel_name: null, marketplace_origin: null, logged_in: null, account: null, refused_token: null }
        : { connection, logged_in: null, account: null },
    );
  }
}
