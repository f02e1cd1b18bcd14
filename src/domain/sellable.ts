// The sellable rule (DESIGN.md): what a channel may sell of an item, from the ledger's levels.
//   sellable = clamp(floor((sum available over the channel's locations - buffer) * percent), 0, cap)
// Kits: min over components of floor(component sellable / qty per kit).

export interface SellableInput {
  /** Sum of on_hand - reserved over the locations the channel draws from. */
  available: number;
  /** Item buffer when set, else the channel's default buffer. */
  buffer: number;
  /** Share of stock offered on this channel, 0..1 (default 1). */
  percent?: number;
  /** Most the channel is ever told (null = no cap). */
  cap?: number | null;
}

export function sellable({ available, buffer, percent = 1, cap = null }: SellableInput): number {
  const raw = Math.floor((available - buffer) * percent + 1e-9);
  const upper = cap ?? Number.MAX_SAFE_INTEGER;
  return Math.max(0, Math.min(upper, raw));
}

export function kitSellable(components: Array<{ sellable: number; qtyPerKit: number }>): number {
  if (components.length === 0) return 0;
  return Math.max(0, Math.min(...components.map((c) => Math.floor(c.sellable / c.qtyPerKit))));
}

/** Availability-only channels (Deliveroo) hold a flag, not a count. */
export function isAvailable(qty: number): boolean {
  return qty > 0;
}

/** Whether a channel holding `held` needs to be told `target`, for the way it models quantity. */
export function needsPush(model: 'absolute' | 'delta' | 'availability', target: number, held: number | null): boolean {
  if (held === null) return true;
  return model === 'availability' ? isAvailable(target) !== isAvailable(held) : target !== held;
}
