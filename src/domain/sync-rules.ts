// Sync rules: a merchant's conditions -> actions on what a channel is told (issue: sync rules).
// Pure: the engine (push, Guardian), the dashboard read model and the dry run all call
// `channelTarget`, so what a dry run explains is what a channel receives.
//
// - A rule matches a listing when every condition it sets holds (a list matches any of its values):
//   the channel, the product's category (a category matches itself and the paths under it:
//   "Clothing" matches "Clothing > Shirts"), the product's tags, the product, and the listing's
//   master sellable quantity (the channel's sellable before any rule: stock_below, stock_at_least).
// - Rules are taken in priority order (lower number first, then id). Per action type, the first
//   matching rule wins; later matching rules of that type are skipped.
// - Quantity actions apply in a fixed order, whatever their priorities: keep_back (subtract N),
//   percent (keep N%, rounded down), hide_below (0 when fewer than N remain), cap (at most N).
// - price_adjust moves the catalog's price for the channel (percent, or a delta in minor units);
//   it never changes a quantity and is returned separately.
import { channelKitSellable, sellable, type KitComponentStock } from './sellable.ts';

export const QTY_ACTIONS = ['keep_back', 'percent', 'hide_below', 'cap'] as const;
export const ACTION_TYPES = [...QTY_ACTIONS, 'price_adjust'] as const;
export type QtyActionType = (typeof QTY_ACTIONS)[number];
export type ActionType = (typeof ACTION_TYPES)[number];

export interface SyncRuleConditions {
  channel_ids?: string[];
  categories?: string[];
  tags?: string[];
  product_ids?: string[];
  /** The master sellable quantity is below this. */
  stock_below?: number;
  /** The master sellable quantity is at least this. */
  stock_at_least?: number;
}

export type SyncRuleAction =
  | { type: QtyActionType; value: number }
  /** `unit` percent: +10 = 10% more; minor: +150 = 1.50 more (negative values lower the price). */
  | { type: 'price_adjust'; value: number; unit: 'percent' | 'minor' };

export interface SyncRule {
  id: string;
  name: string;
  priority: number;
  enabled: boolean;
  conditions: SyncRuleConditions;
  action: SyncRuleAction;
}

/** What the rules look at for one listing. */
export interface ListingFacts {
  channel_id: string;
  product_id: string | null;
  category: string | null;
  tags: readonly string[];
  /** The channel's sellable before rules (its buffer, percent and cap applied). */
  qty: number;
  /** The catalog's price for this channel in minor units (null: none set). */
  price_minor?: number | null;
}

export type RuleStatus = 'applied' | 'skipped' | 'not_matched' | 'disabled';

export interface RuleVerdict {
  rule_id: string;
  name: string;
  priority: number;
  action: SyncRuleAction;
  status: RuleStatus;
  /** Why, in words a merchant reads ("channel ch_1 is not one of ch_2", "keeps back 2: 10 -> 8"). */
  reason: string;
  /** Applied quantity actions: the quantity before and after this rule. */
  qty_before?: number;
  qty_after?: number;
}

export interface RulesOutcome {
  /** The master sellable the rules started from. */
  master_qty: number;
  qty: number;
  /** The price after a price_adjust (never below 0); the input price when none applied. */
  price_minor: number | null;
  /** Every rule, in priority order, with what it did. */
  rules: RuleVerdict[];
  /** Ids of the rules that applied, in the order they took effect. */
  applied: string[];
}

/** Priority order: lower number first, then the older id (ids sort by creation). */
export function orderRules<T extends Pick<SyncRule, 'priority' | 'id'>>(rules: readonly T[]): T[] {
  return [...rules].sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const norm = (s: string) => s.trim().toLowerCase();

/** "Clothing" matches "Clothing" and "Clothing > Shirts"; not "Clothings". */
export function categoryMatches(wanted: string, actual: string | null): boolean {
  if (!actual) return false;
  const w = norm(wanted)
    .split('>')
    .map((s) => s.trim());
  const a = norm(actual)
    .split('>')
    .map((s) => s.trim());
  return w.length <= a.length && w.every((part, i) => part === a[i]);
}

const list = (xs: readonly string[]) => (xs.length > 3 ? `${xs.slice(0, 3).join(', ')} ...` : xs.join(', '));

/** Null when every condition holds, else why the first one does not. */
export function unmetCondition(c: SyncRuleConditions, f: ListingFacts): string | null {
  if (c.channel_ids?.length && !c.channel_ids.includes(f.channel_id)) return `channel ${f.channel_id} is not one of ${list(c.channel_ids)}`;
  if (c.product_ids?.length && !(f.product_id && c.product_ids.includes(f.product_id)))
    return `product ${f.product_id ?? '(none)'} is not one of ${list(c.product_ids)}`;
  if (c.categories?.length && !c.categories.some((w) => categoryMatches(w, f.category)))
    return `category ${f.category ? `"${f.category}"` : '(none)'} is not in ${list(c.categories)}`;
  if (c.tags?.length) {
    const have = new Set(f.tags.map(norm));
    if (!c.tags.some((t) => have.has(norm(t)))) return `tags [${f.tags.join(', ')}] include none of ${list(c.tags)}`;
  }
  if (c.stock_below !== undefined && !(f.qty < c.stock_below)) return `stock ${f.qty} is not below ${c.stock_below}`;
  if (c.stock_at_least !== undefined && !(f.qty >= c.stock_at_least)) return `stock ${f.qty} is below ${c.stock_at_least}`;
  return null;
}

/** The conditions that held, in words, for an applied or skipped rule. */
function matchedBecause(c: SyncRuleConditions, f: ListingFacts): string {
  const parts: string[] = [];
  if (c.channel_ids?.length) parts.push(`channel ${f.channel_id}`);
  if (c.product_ids?.length) parts.push(`product ${f.product_id}`);
  if (c.categories?.length) parts.push(`category "${f.category}"`);
  if (c.tags?.length) parts.push(`tag ${c.tags.filter((t) => f.tags.some((h) => norm(h) === norm(t))).join(', ')}`);
  if (c.stock_below !== undefined) parts.push(`stock ${f.qty} < ${c.stock_below}`);
  if (c.stock_at_least !== undefined) parts.push(`stock ${f.qty} >= ${c.stock_at_least}`);
  return parts.length ? `matched on ${parts.join(', ')}` : 'matches every listing';
}

/** One quantity action on a quantity. */
export function applyQtyAction(type: QtyActionType, value: number, qty: number): number {
  switch (type) {
    case 'keep_back':
      return Math.max(0, qty - value);
    case 'percent':
      return Math.max(0, Math.floor((qty * value) / 100 + 1e-9));
    case 'hide_below':
      return qty < value ? 0 : qty;
    case 'cap':
      return Math.min(qty, value);
  }
}

/** A price after a price_adjust (minor units, rounded to the nearest, never below 0). */
export function adjustPrice(price: number, a: { value: number; unit: 'percent' | 'minor' }): number {
  const out = a.unit === 'percent' ? Math.round(price * (1 + a.value / 100)) : price + a.value;
  return Math.max(0, out);
}

function describe(type: ActionType, a: SyncRuleAction, before: number | null, after: number | null): string {
  const move = `${before ?? 'no price'} -> ${after ?? 'no price'}`;
  switch (type) {
    case 'keep_back':
      return `keeps back ${a.value}: ${move}`;
    case 'percent':
      return `offers ${a.value}%: ${move}`;
    case 'hide_below':
      return before !== null && before < a.value ? `hides it: ${before} is below ${a.value}` : `${before} is not below ${a.value}: nothing hidden`;
    case 'cap':
      return `caps at ${a.value}: ${move}`;
    case 'price_adjust':
      return `adjusts the price by ${a.value}${a.type === 'price_adjust' && a.unit === 'percent' ? '%' : ' (minor units)'}: ${move}`;
  }
}

/** Applies the rules to one listing's master sellable (and price), with the reasons. */
export function applySyncRules(rules: readonly SyncRule[], f: ListingFacts): RulesOutcome {
  const price = f.price_minor ?? null;
  if (rules.length === 0) return { master_qty: f.qty, qty: f.qty, price_minor: price, rules: [], applied: [] };
  const verdicts: RuleVerdict[] = [];
  const winner = new Map<ActionType, { rule: SyncRule; verdict: RuleVerdict }>();
  for (const rule of orderRules(rules)) {
    const v: RuleVerdict = { rule_id: rule.id, name: rule.name, priority: rule.priority, action: rule.action, status: 'not_matched', reason: '' };
    verdicts.push(v);
    if (!rule.enabled) {
      v.status = 'disabled';
      v.reason = 'the rule is disabled';
      continue;
    }
    const unmet = unmetCondition(rule.conditions, f);
    if (unmet) {
      v.reason = unmet;
      continue;
    }
    const first = winner.get(rule.action.type);
    if (first) {
      v.status = 'skipped';
      v.reason = `${matchedBecause(rule.conditions, f)}, but "${first.rule.name}" (priority ${first.rule.priority}) already sets the ${rule.action.type} action`;
      continue;
    }
    v.status = 'applied';
    v.reason = matchedBecause(rule.conditions, f);
    winner.set(rule.action.type, { rule, verdict: v });
  }
  let qty = f.qty;
  const applied: string[] = [];
  for (const type of QTY_ACTIONS) {
    const w = winner.get(type);
    if (!w) continue;
    const before = qty;
    qty = applyQtyAction(type, w.rule.action.value, qty);
    Object.assign(w.verdict, { qty_before: before, qty_after: qty, reason: `${w.verdict.reason}; ${describe(type, w.rule.action, before, qty)}` });
    applied.push(w.rule.id);
  }
  let priceOut = price;
  const pw = winner.get('price_adjust');
  if (pw && pw.rule.action.type === 'price_adjust') {
    priceOut = price === null ? null : adjustPrice(price, pw.rule.action);
    pw.verdict.reason = `${pw.verdict.reason}; ${describe('price_adjust', pw.rule.action, price, priceOut)}`;
    applied.push(pw.rule.id);
  }
  return { master_qty: f.qty, qty, price_minor: priceOut, rules: verdicts, applied };
}

/** A listing's stock as the channel's target is computed from (the ledger, over its locations). */
export interface ListingStock {
  available: number;
  item_buffer: number | null;
  /** A kit's components; empty for a plain item. */
  components: KitComponentStock[];
}

export interface TargetPolicy {
  defaultBuffer: number;
  percent?: number;
  cap?: number | null;
}

/** The channel's sellable before rules: its buffer, percent and cap (domain/sellable.ts). */
export function masterSellable(p: TargetPolicy, s: ListingStock): number {
  if (s.components.length) return channelKitSellable(s.components, p);
  return sellable({ available: s.available, buffer: s.item_buffer ?? p.defaultBuffer, percent: p.percent, cap: p.cap });
}

/**
 * The one place a channel's target quantity for a listing is computed: the channel's sellable,
 * then the tenant's sync rules. Sync pushes it, the Guardian compares against it, the dashboard
 * shows it, the dry run explains it.
 */
export function channelTarget(p: TargetPolicy, s: ListingStock, rules: readonly SyncRule[], facts: Omit<ListingFacts, 'qty'>): RulesOutcome {
  return applySyncRules(rules, { ...facts, qty: masterSellable(p, s) });
}
