// Live channel objects: the row, its decrypted credentials, an adapter (cached until the row
// changes) and the token bucket in front of every call to that account (kept in Postgres).
import type { ChannelAdapter, ChannelModule } from '../channels/contract.ts';
import { channelModule } from '../channels/registry.ts';
import type { Sealer } from '../db/crypto.ts';
import { named, type Db } from '../db/pool.ts';
import { loadSettings } from '../channels/settings.ts';
import { channelPolicy, type ChannelPolicy } from '../domain/channel-policy.ts';
import type { SyncRule } from '../domain/sync-rules.ts';
import { channelRateGate, type RateGate } from './rate-gate.ts';
import { SyncRulesCache } from './sync-rules-cache.ts';
import { extensionRelay } from './extension-relay.ts';

export interface ChannelRow {
  tenant_id: string;
  id: string;
  type: string;
  name: string;
  base_url: string;
  credentials_enc: string;
  status: string;
  settings: Record<string, unknown>;
  poll_cursor: string | null;
  updated_at: Date;
  /** Where sales land when the channel names no locations (see load). */
  default_location_id?: string | null;
  /** tenants.sync_rules_version when the row was read (the rules cache keys on it). */
  sync_rules_version?: string | number;
}

export interface LiveChannel {
  row: ChannelRow;
  module: ChannelModule;
  adapter: ChannelAdapter;
  policy: ChannelPolicy;
  /** The account's request budget, shared with every other worker process. */
  rate: RateGate;
  /** The tenant's sync rules in priority order, as of this load (src/engine/sync-rules-cache.ts). */
  rules: readonly SyncRule[];
}

export class ChannelRuntime {
  private readonly cache = new Map<string, { stamp: number; live: LiveChannel }>();
  private readonly db: Db;
  private readonly sealer: Sealer;
  readonly rules: SyncRulesCache;
  constructor(db: Db, sealer: Sealer) {
    this.db = db;
    this.sealer = sealer;
    this.rules = new SyncRulesCache(db);
  }

  async load(tenantId: string, channelId: string): Promise<LiveChannel | null> {
    const { rows } = await this.db.query<ChannelRow>(
      named(
        'channel_load',
        // A channel that draws from every location (its settings name none) still needs one to
        // take its sales from: the tenant's first location. Whether it names one is for its
        // settings schema to say (see live()), so the first location is always read.
        `select c.tenant_id, c.id, c.type, c.name, c.base_url, c.credentials_enc, c.status, c.settings, c.poll_cursor, c.updated_at,
                (select l.id from locations l where l.tenant_id = c.tenant_id order by l.created_at, l.id limit 1) as default_location_id,
                (select t.sync_rules_version from tenants t where t.id = c.tenant_id) as sync_rules_version
         from channels c where c.tenant_id = $1 and c.id = $2`,
        [tenantId, channelId],
      ),
    );
    if (!rows[0]) return null;
    const live = this.live(rows[0]);
    // In memory unless the tenant's rules changed since they were last read (one query then).
    live.rules = await this.rules.get(tenantId, Number(rows[0].sync_rules_version ?? 0));
    return live;
  }

  live(row: ChannelRow): LiveChannel {
    const mod = channelModule(row.type);
    if (!mod) throw new Error(`unknown channel type ${row.type}`);
    const stamp = new Date(row.updated_at).getTime();
    const hit = this.cache.get(row.id);
    if (hit && hit.stamp === stamp) {
      hit.live.row = row;
      return hit.live;
    }
    if (hit) void hit.live.adapter.close().catch(() => {});
    // The one place a stored row's settings are read: through the module's schema, defaults applied.
    const settings = loadSettings(mod.settings, row.settings);
    const adapter = mod.createAdapter({
      channelId: row.id,
      baseUrl: row.base_url,
      credentials: this.sealer.open(row.credentials_enc),
      settings,
      // Renewed tokens are stored without touching updated_at: this adapter already holds them,
      // and a new stamp would only make every process rebuild theirs.
      saveCredentials: async (credentials) => {
        await this.db.query(`update channels set credentials_enc = $3 where tenant_id = $1 and id = $2`, [
          row.tenant_id,
          row.id,
          this.sealer.seal(credentials),
        ]);
      },
      loadCredentials: async () => {
        const { rows } = await this.db.query<{ credentials_enc: string }>(`select credentials_enc from channels where tenant_id = $1 and id = $2`, [
          row.tenant_id,
          row.id,
        ]);
        if (!rows[0]) throw new Error(`channel ${row.id} is gone`);
        return this.sealer.open(rows[0].credentials_enc);
      },
      extension: mod.capabilities.transport === 'extension' ? extensionRelay(this.db, row.tenant_id, row.id) : undefined,
    });
    const rate = channelRateGate(this.db, row.tenant_id, row.id, mod.capabilities.rateLimit);
    const policy = channelPolicy(settings, mod.capabilities);
    if (!policy.saleLocationId && row.default_location_id) policy.saleLocationId = row.default_location_id;
    const live: LiveChannel = { row, module: mod, adapter, policy, rate, rules: [] };
    this.cache.set(row.id, { stamp, live });
    return live;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.cache.values()].map((c) => c.live.adapter.close()));
    this.cache.clear();
  }
}
