// Stripe's v1 API takes `application/x-www-form-urlencoded` bodies (and query strings) with
// bracket notation: `metadata[tenant_id]=t1`, `line_items[0][price]=price_x`, `expand[]=customer`.
// This turns them back into the nested values the API documents. Stripe answers JSON only.

export type FormValue = string | FormValue[] | { [k: string]: FormValue };
export type Params = Record<string, FormValue>;

/** `a[b][0][c]` -> ['a', 'b', '0', 'c']; `expand[]` -> ['expand', ''] (append). */
function pathOf(key: string): string[] {
  const open = key.indexOf('[');
  if (open < 0) return [key];
  const parts = [key.slice(0, open)];
  const re = /\[([^\]]*)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(key.slice(open))) !== null) parts.push(m[1]!);
  return parts;
}

// Objects whose keys are all array indices become arrays (`items[0][price]` is a list of items).
function arrays(v: FormValue): FormValue {
  if (typeof v === 'string' || Array.isArray(v)) return Array.isArray(v) ? v.map(arrays) : v;
  const keys = Object.keys(v);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => arrays(v[String(k)]!));
  }
  const out: Record<string, FormValue> = {};
  for (const k of keys) out[k] = arrays(v[k]!);
  return out;
}

export function parseForm(text: string): Params {
  const root: Record<string, FormValue> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const path = pathOf(key);
    let node = root;
    for (let i = 0; i < path.length; i++) {
      // `[]` appends: the next free index in this container (arrays() makes it a list after).
      const part = path[i] === '' ? String(Object.keys(node).length) : path[i]!;
      if (i === path.length - 1) {
        node[part] = value;
        break;
      }
      const next = node[part];
      node = (next && typeof next === 'object' && !Array.isArray(next) ? next : (node[part] = {})) as Record<string, FormValue>;
    }
  }
  return arrays(root) as Params;
}

export function str(p: Params, key: string): string | undefined {
  const v = p[key];
  return typeof v === 'string' ? v : undefined;
}

export function obj(v: FormValue | undefined): Params | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
}

export function list(v: FormValue | undefined): FormValue[] | undefined {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [v];
  return undefined;
}

/** Stripe's booleans on the wire are the strings `true` / `false`. */
export function bool(v: FormValue | undefined): boolean | undefined {
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}
