// Re-sealing every stored secret with the keyring's current key (`stockclerk rotate-keys`), so an
// old key can leave ENCRYPTION_KEYS afterwards. Safe beside running servers: each value is
// re-sealed only if it is still the value read (a concurrent change wins and is already current),
// and values already sealed with the current key are skipped, so a run that stopped half way is
// simply run again. Walks each column in primary-key order, a batch per transaction, and tells
// `progress` after every batch. Each tenant whose secrets moved gets one `credentials.key_rotated`
// entry in its audit log at the end of the run.
import { withTx, type Db } from '../db/pool.ts';
import type { Sealer } from '../db/crypto.ts';
import { audit } from './audit-log.ts';
import { systemScope } from './scope.ts';

interface SealedColumn {
  table: string;
  pk: string[];
  column: string;
  /** Text before the sealed value in the column (idempotent answers that hold a secret: `sealed:`). */
  prefix?: string;
}

/** Every column that holds a sealed value. A new one belongs here (the rotation test lists them too). */
export const SEALED_COLUMNS: SealedColumn[] = [
  { table: 'channels', pk: ['tenant_id', 'id'], column: 'credentials_enc' },
  { table: 'webhook_endpoints', pk: ['tenant_id', 'id'], column: 'secret_sealed' },
  { table: 'webhook_endpoints', pk: ['tenant_id', 'id'], column: 'previous_secret_sealed' },
  { table: 'idempotency_keys', pk: ['tenant_id', 'actor_id', 'key'], column: 'response_body', prefix: 'sealed:' },
];

export interface RotationProgress {
  table: string;
  column: string;
  /** Values of this column not yet on the current key when the run reached it. */
  total: number;
  resealed: number;
  /** Values no key of the keyring opens (left as they are; the run ends non-zero). */
  unreadable: number;
}

export async function rotateKeys(db: Db, sealer: Sealer, opts: { batch?: number; progress?: (p: RotationProgress) => void } = {}): Promise<RotationProgress[]> {
  const batch = opts.batch ?? 500;
  const out: RotationProgress[] = [];
  // Every sealed column's table is a tenant's (tenant_id first in its key).
  const perTenant = new Map<string, number>();
  for (const c of SEALED_COLUMNS) {
    const prefix = c.prefix ?? '';
    const current = `${prefix}v2.${sealer.currentKeyId}.%`;
    const sealedOnly = prefix ? `and ${c.column} like '${prefix}%'` : '';
    const pending = `${c.column} is not null ${sealedOnly} and ${c.column} not like $1`;
    const { rows: count } = await db.query<{ n: number }>(`select count(*)::int as n from ${c.table} where ${pending}`, [current]);
    const p: RotationProgress = { table: c.table, column: c.column, total: count[0]!.n, resealed: 0, unreadable: 0 };
    out.push(p);
    const pk = c.pk.join(', ');
    let after: string[] | null = null;
    while (p.total > 0) {
      const keyset: string = after ? `and (${pk}) > (${c.pk.map((_, i) => `$${i + 3}`).join(', ')})` : '';
      const { rows }: { rows: Array<Record<string, string>> } = await db.query<Record<string, string>>(
        `select ${pk}, ${c.column} as sealed from ${c.table} where ${pending} ${keyset} order by ${pk} limit $2`,
        [current, batch, ...(after ?? [])],
      );
      if (rows.length === 0) break;
      await withTx(db, async (tx) => {
        for (const r of rows) {
          let resealed: string;
          try {
            resealed = prefix + sealer.seal(sealer.open(r.sealed!.slice(prefix.length)));
          } catch {
            p.unreadable++;
            continue;
          }
          const where = c.pk.map((k, i) => `${k} = $${i + 3}`).join(' and ');
          const { rowCount } = await tx.query(`update ${c.table} set ${c.column} = $1 where ${c.column} = $2 and ${where}`, [
            resealed,
            r.sealed,
            ...c.pk.map((k) => r[k]),
          ]);
          p.resealed += rowCount ?? 0;
          if (rowCount) perTenant.set(r.tenant_id!, (perTenant.get(r.tenant_id!) ?? 0) + rowCount);
        }
      });
      const last: Record<string, string> = rows.at(-1)!;
      after = c.pk.map((k) => last[k]!);
      opts.progress?.({ ...p });
    }
  }
  for (const [tenantId, resealed] of perTenant) {
    await audit(db, systemScope(tenantId), 'credentials.key_rotated', { type: 'tenant', id: tenantId }, { key_id: sealer.currentKeyId, resealed });
  }
  return out;
}
