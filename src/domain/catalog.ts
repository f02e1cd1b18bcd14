// The catalog's rules, as pure functions (no database, no HTTP): which variants a product's options
// allow, and what a product looks like on one channel once that channel's overrides apply.
// src/services/products.ts stores and reads; publishing (the marketplace adapters) sends what
// `channelView` says.

export interface ProductOption {
  name: string;
  values: string[];
}

export type PriceOverride = { type: 'absolute'; minor: number } | { type: 'percent'; percent: number };

export interface VariantSpec {
  sku: string;
  option_values: Record<string, string>;
  /** Minor units; null = the product's base price. */
  price_minor: number | null;
}

export interface CatalogProblem {
  path: string;
  message: string;
}

/**
 * The problems with a product's options and variants, or [] when they agree: option names and
 * values unique; each variant names exactly one value of every option, from its values; no two
 * variants share a combination. A product without options has exactly one variant.
 */
export function variantProblems(options: ProductOption[], variants: Array<Pick<VariantSpec, 'sku' | 'option_values'>>): CatalogProblem[] {
  const out: CatalogProblem[] = [];
  const names = new Set<string>();
  options.forEach((o, i) => {
    const key = o.name.trim().toLowerCase();
    if (names.has(key)) out.push({ path: `options.${i}.name`, message: `option ${o.name} is named twice` });
    names.add(key);
    const seen = new Set<string>();
    o.values.forEach((v, j) => {
      if (seen.has(v)) out.push({ path: `options.${i}.values.${j}`, message: `${o.name} lists ${v} twice` });
      seen.add(v);
    });
  });
  if (options.length === 0 && variants.length > 1)
    out.push({ path: 'variants', message: 'a product without options has one variant; add options (size, colour ...) to tell variants apart' });
  const combos = new Map<string, string>();
  variants.forEach((v, i) => {
    const given = Object.keys(v.option_values);
    for (const name of given) {
      if (!options.some((o) => o.name === name)) out.push({ path: `variants.${i}.option_values.${name}`, message: `${name} is not an option of this product` });
    }
    for (const o of options) {
      const value = v.option_values[o.name];
      if (value === undefined) out.push({ path: `variants.${i}.option_values`, message: `variant ${v.sku} has no ${o.name}` });
      else if (!o.values.includes(value))
        out.push({ path: `variants.${i}.option_values.${o.name}`, message: `${value} is not one of ${o.name}: ${o.values.join(', ')}` });
    }
    const combo = options.map((o) => v.option_values[o.name] ?? '').join('\u0000');
    const twin = combos.get(combo);
    if (twin !== undefined && options.length > 0) out.push({ path: `variants.${i}`, message: `variants ${twin} and ${v.sku} have the same options` });
    combos.set(combo, v.sku);
  });
  return out;
}

/** A price after a channel's override: absolute replaces it, percent moves it (rounded to the minor unit). */
export function overridePrice(base: number | null, o: PriceOverride | null | undefined): number | null {
  if (!o) return base;
  if (o.type === 'absolute') return o.minor;
  if (base === null) return null;
  return Math.round(base * (1 + o.percent / 100));
}

export interface ProductForChannel {
  title: string;
  description: string;
  price_minor: number | null;
  currency: string;
  category: string | null;
  attributes: Record<string, string>;
  images: Array<{ id: string; url: string }>;
  variants: Array<{ item_id: string; sku: string; option_values: Record<string, string>; price_minor: number | null }>;
}

export interface ChannelOverride {
  title: string | null;
  description: string | null;
  price: PriceOverride | null;
  image_ids: string[] | null;
  category_id: string | null;
  attributes: Record<string, string>;
}

/**
 * What a product looks like on one channel: the master with the channel's override on top. An
 * absolute price override sets every variant's price; a percent one moves each variant's own price.
 * Overridden images keep the override's order and drop ids the product no longer has.
 */
export function channelView(
  p: {
    title: string;
    description: string;
    price_minor: number | null;
    currency: string;
    category: string | null;
    attributes: Record<string, string>;
    images: Array<{ id: string; url: string }>;
    variants: Array<{ item_id: string; sku: string; option_values: Record<string, string>; price_minor: number | null }>;
  },
  o: ChannelOverride | null,
): ProductForChannel {
  const byId = new Map(p.images.map((i) => [i.id, i]));
  return {
    title: o?.title ?? p.title,
    description: o?.description ?? p.description,
    price_minor: overridePrice(p.price_minor, o?.price),
    currency: p.currency,
    category: o?.category_id ?? p.category,
    attributes: { ...p.attributes, ...(o?.attributes ?? {}) },
    images: o?.image_ids ? o.image_ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])) : p.images,
    variants: p.variants.map((v) => ({ ...v, price_minor: overridePrice(v.price_minor ?? p.price_minor, o?.price) })),
  };
}
