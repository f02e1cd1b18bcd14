// An OAuth token pair whose access token expires and whose refresh token is spent on use (Etsy,
// Shopee): renewed a margin before the recorded expiry, one renewal shared by concurrent callers,
// stored through the channel's saveCredentials (a failed save is retried on the next call: the new
// pair works from memory meanwhile). The API and every worker hold their own adapter, so another
// process may have renewed first and spent the refresh token we hold: its stored pair is adopted
// instead of letting a refused refresh disconnect a channel that works.
import { ChannelError, type ChannelConnection } from './contract.ts';

export interface RenewableTokensOptions {
  /** Renew this long before `access_expires_at` (clock skew, a slow call in between). */
  marginMs: number;
  /** The platform's refresh call: the new access_token, refresh_token and access_expires_at. */
  renew: (creds: Readonly<Record<string, string>>) => Promise<Record<string, string>>;
  now?: () => number;
}

export class RenewableTokens {
  private held: Record<string, string>;
  private refreshing: Promise<void> | null = null;
  /** A renewed pair a failed save did not store yet. */
  private unsaved = false;
  private readonly opts: RenewableTokensOptions;
  private readonly now: () => number;

  private readonly save: ChannelConnection['saveCredentials'];
  private readonly load: ChannelConnection['loadCredentials'];

  /** The channel's stored credentials (the pair among them) and the means to store renewed ones. */
  constructor(conn: Pick<ChannelConnection, 'credentials' | 'saveCredentials' | 'loadCredentials'>, opts: RenewableTokensOptions) {
    this.opts = opts;
    this.held = { ...conn.credentials };
    this.save = conn.saveCredentials;
    this.load = conn.loadCredentials;
    this.now = opts.now ?? Date.now;
  }

  /** The credentials held now, the current pair among them. */
  get creds(): Readonly<Record<string, string>> {
    return this.held;
  }

  /** Before a call: waits for a renewal under way, renews one about to expire (unless `renew` is false), stores one not stored yet. */
  async ready(renew = true): Promise<void> {
    if (this.refreshing) await this.refreshing;
    if (renew && this.expiresSoon()) await this.refresh();
    else if (this.unsaved) await this.persist();
  }

  /** Renews the pair now (an access token refused as expired); concurrent callers share one renewal. */
  async refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = (async () => {
        if ((await this.adoptStored()) && !this.expiresSoon()) return;
        let next: Record<string, string>;
        try {
          next = await this.opts.renew(this.held);
        } catch (err) {
          // Renewed elsewhere between our look and our call: theirs stands.
          if (err instanceof ChannelError && err.kind === 'auth' && (await this.adoptStored())) return;
          throw err;
        }
        this.held = { ...this.held, ...next };
        this.unsaved = true;
        await this.persist();
      })().finally(() => (this.refreshing = null));
    }
    return this.refreshing;
  }

  /** Takes the stored pair when another process renewed it (its refresh token differs from ours). */
  private async adoptStored(): Promise<boolean> {
    if (!this.load || this.unsaved) return false;
    const stored = await this.load().catch(() => null);
    if (!stored?.refresh_token || stored.refresh_token === this.held.refresh_token) return false;
    this.held = {
      ...this.held,
      access_token: stored.access_token ?? '',
      refresh_token: stored.refresh_token,
      access_expires_at: stored.access_expires_at ?? '',
    };
    return true;
  }

  expiresSoon(): boolean {
    const exp = this.held.access_expires_at ? Date.parse(this.held.access_expires_at) : NaN;
    return Number.isFinite(exp) && exp - this.now() <= this.opts.marginMs;
  }

  private async persist(): Promise<void> {
    if (!this.unsaved || !this.save) return;
    try {
      await this.save({ ...this.held });
      this.unsaved = false;
    } catch {
      // The new pair works from memory; the next call tries to store it again.
    }
  }
}
