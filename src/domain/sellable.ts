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

export interface KitComponentStock {
  /** The component's on_hand - reserved over the channel's locations. */
  available: number;
  /** The component's own buffer (null = the channel's default). */
  buffer: number | null;
  /** Units of the component in one kit. */
  qty: number;
}

/**
 * A kit listing's sellable on one channel: each component's sellable under the channel's buffer
 * and percent, divided by its quantity per kit; the scarcest component wins, then the channel's cap.
 */
export function channelKitSellable(components: KitComponentStock[], policy: { defaultBuffer: number; percent?: number; cap?: number | null }): number {
  const kits = kitSellable(
    components.map((c) => ({
      sellable: sellable({ available: c.available, buffer: c.buffer ?? policy.defaultBuffer, percent: policy.percent }),
      qtyPerKit: c.qty,
    })),
  );
  return policy.cap == null ? kits : Math.min(kits, policy.cap);
}

/**
 * A kit holds no stock of its own: a quantity of a kit (a sale, a return, a hold) becomes that
 * quantity times each component's qty per kit, on the components. Rows of plain items pass through.
 */
export function explodeKits<T extends { itemId: string }>(
  rows: T[],
  kits: ReadonlyMap<string, ReadonlyArray<{ itemId: string; qty: number }>>,
  qtyKey: { [K in keyof T]: T[K] extends number ? K : never }[keyof T],
): T[] {
  return rows.flatMap((r) => {
    const parts = kits.get(r.itemId);
    if (!parts?.length) return [r];
    return parts.map((p) => ({ ...r, itemId: p.itemId, [qtyKey]: (r[qtyKey] as number) * p.qty }));
  });
}
