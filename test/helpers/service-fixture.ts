// What a service test below HTTP starts from: a fresh database with one tenant, its scope, two
// locations (a warehouse and a shop), and helpers to stock an item and read back what changed.
import { afterAll, beforeAll, expect } from 'vitest';
import { createItems, createTenant } from '../../src/db/tenants.ts';
import { AppError } from '../../src/domain/errors.ts';
import { newId } from '../../src/domain/ids.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import type { Scope } from '../../src/services/scope.ts';
import { createTestDb, type TestDb } from './db.ts';

let seq = 0;

/**
 * The suite's database and tenant, made by beforeAll and dropped by afterAll (create it at the top
 * of a test file); the methods stock an item and read back what a service did.
 */
export class ServiceFixture {
  t!: TestDb;
  scope!: Scope;
  warehouse = '';
  shop = '';

  constructor(name: string) {
    beforeAll(async () => {
      this.t = await createTestDb();
      const ten = await createTenant(this.t.db, { name });
      this.scope = { tenantId: ten.tenantId, actor: { type: 'user', id: 'usr_test' }, requestId: 'req_test' };
      this.warehouse = ten.locationId;
      // Service suites connect more channels than a trial's 3 shops; plan limits have their own suite (test/api/billing.test.ts).
      await this.t.db.query(`update tenants set plan = 'enterprise' where id = $1`, [ten.tenantId]);
      this.shop = newId('loc');
      await this.t.db.query(`insert into locations (tenant_id, id, name) values ($1, $2, 'Shop')`, [this.scope.tenantId, this.shop]);
    });
    afterAll(() => this.t.drop());
  }

  /** A new item with `qty` on hand at `location` (a receipt through the ledger, without a note). */
  async stocked(qty: number, location = this.warehouse): Promise<string> {
    const [id] = await createItems(this.t.db, this.scope.tenantId, [{ sku: `SVC-${++seq}`, name: `Thing ${seq}` }]);
    if (qty > 0) await recordMovements(this.t.db, this.scope.tenantId, [{ itemId: id!, locationId: location, qtyDelta: qty, reason: 'receipt' }]);
    return id!;
  }

  async level(item: string, location = this.warehouse): Promise<{ on_hand: number; reserved: number }> {
    const { rows } = await this.t.db.query<{ on_hand: number; reserved: number }>(
      `select on_hand, reserved from stock_levels where tenant_id = $1 and item_id = $2 and location_id = $3`,
      [this.scope.tenantId, item, location],
    );
    return rows[0] ?? { on_hand: 0, reserved: 0 };
  }

  /** The movements a service wrote for an item (they carry a note; `stocked`'s receipt does not), oldest first. */
  async movements(item: string) {
    const { rows } = await this.t.db.query<{ location_id: string; qty_delta: number; reason: string; note: string }>(
      `select location_id, qty_delta, reason, note from stock_movements where tenant_id = $1 and item_id = $2 and note is not null order by id`,
      [this.scope.tenantId, item],
    );
    return rows;
  }

  async auditActions(resourceId: string): Promise<string[]> {
    const { rows } = await this.t.db.query<{ action: string }>(`select action from audit_log where tenant_id = $1 and resource_id = $2 order by id`, [
      this.scope.tenantId,
      resourceId,
    ]);
    return rows.map((r) => r.action);
  }
}

/** The AppError a call was refused with (fails the test when it was not refused with one). */
export async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}
