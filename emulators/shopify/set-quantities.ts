// The inventorySetQuantities mutation: validation with Shopify's userError codes, the
// compareQuantity / changeFromQuantity compare-and-swap, @idempotent replay, and the
// inventory_levels/update webhook for every level that moved.
import { createHash } from 'node:crypto';
import type { Emulator } from '../kit/index.ts';
import { GqlError, Projected, projectValue, type ExecContext, type FieldNode, type GqlObject } from './graphql.ts';
import { LOCATION_GID, stamp, type Item, type ShopifyAccount } from './account.ts';
import { levelWebhook } from './notify.ts';
import { itemObj, locationObj, quantityOf } from './objects.ts';

// The 17 reasons from the 2025-01 schema (channel-apis.md, third-party generated list).
export const REASONS = new Set([
  'correction',
  'cycle_count_available',
  'damaged',
  'movement_created',
  'movement_updated',
  'movement_received',
  'movement_canceled',
  'other',
  'promotion',
  'quality_control',
  'received',
  'reservation_created',
  'reservation_deleted',
  'reservation_updated',
  'restock',
  'safety_stock',
  'shrinkage',
]);

interface QtyInput {
  inventoryItemId?: unknown;
  locationId?: unknown;
  quantity?: unknown;
  changeFromQuantity?: unknown;
  compareQuantity?: unknown;
}
interface SetInput {
  name?: unknown;
  reason?: unknown;
  referenceDocumentUri?: unknown;
  ignoreCompareQuantity?: unknown;
  quantities?: QtyInput[];
}
type UserError = { __typename: 'InventorySetQuantitiesUserError'; code: string; field: string[] | null; message: string };

function userError(code: string, field: string[] | null, message: string): UserError {
  return { __typename: 'InventorySetQuantitiesUserError', code, field, message };
}

function validate(acc: ShopifyAccount, input: SetInput): UserError[] {
  const errs: UserError[] = [];
  if (input.name !== 'available' && input.name !== 'on_hand')
    errs.push(userError('INVALID_NAME', ['input', 'name'], "The quantity name must be either 'available' or 'on_hand'."));
  if (typeof input.reason !== 'string' || !REASONS.has(input.reason))
    errs.push(userError('INVALID_REASON', ['input', 'reason'], 'The specified reason is invalid.'));
  if (input.referenceDocumentUri != null && !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(String(input.referenceDocumentUri))) {
    errs.push(userError('INVALID_REFERENCE_DOCUMENT', ['input', 'referenceDocumentUri'], 'The reference document URI is invalid.'));
  }
  const seen = new Set<string>();
  (input.quantities ?? []).forEach((q, i) => {
    const at = (f: string) => ['input', 'quantities', String(i), f];
    const item = acc.byGid.get(String(q.inventoryItemId));
    if (!item) return errs.push(userError('INVALID_INVENTORY_ITEM', at('inventoryItemId'), 'The specified inventory item could not be found.'));
    if (q.locationId !== LOCATION_GID) return errs.push(userError('INVALID_LOCATION', at('locationId'), 'The specified location could not be found.'));
    const pair = `${item.gid}|${String(q.locationId)}`;
    if (seen.has(pair))
      return errs.push(
        userError('NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR', at('inventoryItemId'), 'The combination of inventoryItemId and locationId must be unique.'),
      );
    seen.add(pair);
    const qty = q.quantity;
    if (typeof qty !== 'number' || !Number.isInteger(qty))
      return errs.push(userError('INVALID_QUANTITY_NEGATIVE', at('quantity'), 'The quantity must be an integer.')); // GUESS: GraphQL would reject this as a type error
    if (qty > 1_000_000_000) return errs.push(userError('INVALID_QUANTITY_TOO_HIGH', at('quantity'), "The quantity can't be higher than 1,000,000,000."));
    if (qty < -1_000_000_000) return errs.push(userError('INVALID_QUANTITY_TOO_LOW', at('quantity'), "The quantity can't be lower than -1,000,000,000."));
    // GUESS: negative targets rejected (the doc lists the code; which names allow negatives is not documented).
    if (qty < 0) return errs.push(userError('INVALID_QUANTITY_NEGATIVE', at('quantity'), "The quantity can't be negative."));
    if (input.name !== 'available' && input.name !== 'on_hand') return undefined;
    const current = quantityOf(item, input.name);
    // GUESS (2026-01 interplay): changeFromQuantity, when the key is present, wins (null opts out);
    // else the pre-2026-04 compareQuantity rules apply.
    if ('changeFromQuantity' in q) {
      if (q.changeFromQuantity !== null && q.changeFromQuantity !== current) {
        errs.push(userError('CHANGE_FROM_QUANTITY_STALE', at('changeFromQuantity'), 'The changeFromQuantity does not match the current quantity.'));
      }
    } else if (q.compareQuantity !== undefined && q.compareQuantity !== null) {
      if (q.compareQuantity !== current)
        errs.push(userError('COMPARE_QUANTITY_STALE', at('compareQuantity'), 'The compareQuantity argument no longer matches the persisted quantity.'));
    } else if (input.ignoreCompareQuantity !== true) {
      errs.push(userError('COMPARE_QUANTITY_REQUIRED', at('compareQuantity'), 'The compareQuantity value is required unless ignoreCompareQuantity is true.'));
    }
    return undefined;
  });
  return errs;
}

export function setQuantities(
  emu: Emulator<ShopifyAccount>,
  acc: ShopifyAccount,
  args: Record<string, unknown>,
  field: FieldNode,
  ctx: ExecContext,
  path: Array<string | number>,
): unknown {
  const input = (args.input ?? {}) as SetInput;
  if (!Array.isArray(input.quantities))
    throw new GqlError('Variable $input of type InventorySetQuantitiesInput! was provided invalid value for quantities', { code: 'INVALID_VARIABLE' });
  // Input limits: array inputs hold at most 250 entries (GUESS: code and wording of the error).
  if (input.quantities.length > 250) {
    throw new GqlError(
      `The input array size of ${input.quantities.length} is greater than the maximum allowed of 250.`,
      { code: 'MAX_INPUT_SIZE_EXCEEDED' },
      path,
    );
  }
  const key = field.directives.idempotent?.key;
  const hash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
  const project = (payload: unknown) => projectValue(payload, field.selections ?? [], path, ctx);
  if (typeof key === 'string') {
    const prev = acc.idempotency.get(key);
    if (prev && prev.hash !== hash) {
      return {
        __typename: 'InventorySetQuantitiesPayload',
        inventoryAdjustmentGroup: null,
        userErrors: [userError('IDEMPOTENCY_KEY_PARAMETER_MISMATCH', null, 'The same idempotency key was used with different parameters.')],
      };
    }
    // Same key, same input: the original answer, nothing applied again, no webhooks.
    if (prev) return new Projected(prev.result);
  }
  const errors = validate(acc, input);
  let group: GqlObject | null = null;
  // GUESS: the mutation is all-or-nothing; any userError leaves every quantity untouched.
  if (errors.length === 0) {
    const changes: GqlObject[] = [];
    const name = String(input.name);
    for (const q of input.quantities) {
      const item = acc.byGid.get(String(q.inventoryItemId)) as Item;
      const target = q.quantity as number;
      const delta = target - quantityOf(item, name);
      // GUESS: a set to the current value changes nothing (no new updatedAt, no webhook, no change row).
      if (delta !== 0) {
        item.available += delta; // setting on_hand moves available too: committed stays put
        item.updatedAt = stamp(acc);
        const names = name === 'available' ? ['available', 'on_hand'] : ['on_hand', 'available'];
        for (const n of names) {
          changes.push({
            __typename: 'InventoryChange',
            name: n,
            delta,
            quantityAfterChange: quantityOf(item, n),
            ledgerDocumentUri: null,
            item: () => itemObj(acc, item),
            location: () => locationObj(acc),
          });
        }
        levelWebhook(emu, acc, item);
      }
      emu.recordWrite(acc.id, item.gid, item.available);
    }
    group = {
      __typename: 'InventoryAdjustmentGroup',
      id: `gid://shopify/InventoryAdjustmentGroup/${++acc.seq}`,
      createdAt: new Date().toISOString(),
      reason: input.reason,
      referenceDocumentUri: input.referenceDocumentUri ?? null,
      changes,
    };
  }
  const result = project({ __typename: 'InventorySetQuantitiesPayload', inventoryAdjustmentGroup: group, userErrors: errors });
  if (typeof key === 'string') {
    // GUESS: Shopify's retention window is not in our notes; keep the newest 10,000 keys.
    if (acc.idempotency.size >= 10_000) acc.idempotency.delete(acc.idempotency.keys().next().value as string);
    acc.idempotency.set(key, { hash, result });
  }
  return new Projected(result);
}
