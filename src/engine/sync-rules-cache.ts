// The tenants' sync rules, held in memory and keyed on tenants.sync_rules_version (bumped by every
// rule change, src/services/sync-rules.ts): the version rides along with the channel row Sync and
// the Guardian already read (channel-runtime.ts), so a push reads no rules unless they changed.
import type { Db } from '../db/pool.ts';
import type { SyncRule } from '../domain/sync-rules.ts';
import { loadRules } from '../services/sync-rules.ts';

export class SyncRulesCache {
  private readonly byTenant = new Map<string, { version: number; rules: readonly SyncRule[] }>();
  private readonly loading = new Map<string, Promise<{ version: number; rules: readonly SyncRule[] }>>();
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /** The tenant's rules at `version` (or newer): from memory when this version is already held. */
  async get(tenantId: string, version: number): Promise<readonly SyncRule[]> {
    const hit = this.byTenant.get(tenantId);
    if (hit && hit.version >= version) return hit.rules;
    let pending = this.loading.get(tenantId);
    if (!pending) {
      pending = loadRules(this.db, tenantId).finally(() => this.loading.delete(tenantId));
      this.loading.set(tenantId, pending);
    }
    const loaded = await pending;
    const now = this.byTenant.get(tenantId);
    if (!now || now.version < loaded.version) this.byTenant.set(tenantId, loaded);
    return loaded.version >= version ? loaded.rules : this.get(tenantId, version);
  }

  clear(): void {
    this.byTenant.clear();
  }
}
