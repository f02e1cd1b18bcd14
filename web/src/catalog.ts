// The catalog pages' pure helpers (no React, no fetch; test/web/catalog.test.ts holds them to
// their word): money in minor units shown and typed as "£12.50", every combination of a
// product's options, and the API's error details turned into the editor's field keys.

/** Digits after the point in a currency's minor unit (GBP 2, JPY 0), as Intl knows it. */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2; // not an ISO code (yet: the field is being typed); the API will say so on save
  }
}

/** 1250 GBP -> "£12.50"; null -> "—". */
export function formatMoney(minor: number | null | undefined, currency: string): string {
  if (minor === null || minor === undefined) return '—';
  const digits = minorDigits(currency);
  try {
    return new Intl.NumberFormat('en-GB', { style: 'currency', currency, minimumFractionDigits: digits }).format(minor / 10 ** digits);
  } catch {
    return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
  }
}

/** 1250 -> "12.50" (what a price field holds); null -> "". */
export function moneyInput(minor: number | null | undefined, currency: string): string {
  if (minor === null || minor === undefined) return '';
  const digits = minorDigits(currency);
  return (minor / 10 ** digits).toFixed(digits);
}

/**
 * What was typed in a price field, in minor units: "12.5", "£12.50", "1,250" -> 1250 (GBP);
 * "" -> null (no price); anything else -> undefined (not a price). Worked on the digits as text,
 * so 0.29 never becomes 28.999... pence.
 */
export function parseMoney(text: string, currency: string): number | null | undefined {
  const s = text
    .trim()
    .replace(/^[^\d.-]+/, '')
    .replace(/,/g, '');
  if (text.trim() === '') return null;
  const digits = minorDigits(currency);
  const m = /^(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[2] ?? '').length > digits) return undefined;
  return Number(m[1]) * 10 ** digits + Number((m[2] ?? '').padEnd(digits, '0') || 0);
}

/** "£12.00 – £15.00" over the variants' own prices (the base price where they have none). */
export function priceRange(base: number | null, variants: Array<{ price_minor: number | null }>, currency: string): string {
  const prices = (variants.length ? variants.map((v) => v.price_minor ?? base) : [base]).filter((p): p is number => p !== null);
  if (prices.length === 0) return '—';
  const lo = Math.min(...prices);
  const hi = Math.max(...prices);
  return lo === hi ? formatMoney(lo, currency) : `${formatMoney(lo, currency)} – ${formatMoney(hi, currency)}`;
}

/** Every combination of the options' values, first option slowest: [[S, Red], [S, Blue], [M, Red] ...]. */
export function combinations(values: string[][]): string[][] {
  return values.reduce<string[][]>((acc, vs) => acc.flatMap((combo) => vs.map((v) => [...combo, v])), [[]]);
}

/** A SKU suggested for a generated variant: "Linen shirt" + [M, Sand] -> "LINEN-SHIRT-M-SAND". */
export function suggestSku(title: string, values: string[]): string {
  const part = (s: string) =>
    s
      .normalize('NFKD')
      .replace(/[^\w\s-]/g, '')
      .trim()
      .replace(/[\s_-]+/g, '-')
      .toUpperCase();
  return [part(title) || 'SKU', ...values.map(part)].filter(Boolean).join('-').slice(0, 100);
}

/** "S, M , L," -> ["S", "M", "L"]: what an option's values field and the tags field hold. */
export const splitList = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export interface Detail {
  path?: string;
  message?: string;
}

/**
 * The API's error details as the editor's field keys, several messages per key joined. A
 * variant's option is named by the API (`variants.1.option_values.Size`) and keyed here by the
 * option's place (`variants.1.option.0`), since the editor lets an option be renamed. `prefix`
 * places details of a call about one variant (`sku`) at its row (`variants.3.sku`).
 */
export function fieldErrors(details: unknown, optionNames: string[], prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (!Array.isArray(details)) return out;
  for (const d of details as Detail[]) {
    if (!d?.message) continue;
    let path = d.path ?? '';
    if (prefix && !path.startsWith('variants')) path = path ? `${prefix}.${path}` : prefix;
    const m = /^variants\.(\d+)\.option_values\.(.+)$/.exec(path);
    if (m) {
      const at = optionNames.indexOf(m[2]!);
      path = at >= 0 ? `variants.${m[1]}.option.${at}` : `variants.${m[1]}.option_values`;
    }
    out.set(path, out.has(path) ? `${out.get(path)}; ${d.message}` : d.message);
  }
  return out;
}
