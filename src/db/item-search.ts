// Item search: a substring of the SKU, the name or the barcode (GET /items?q=, the dashboard's grid).
// The three are searched as one text, joined by the unit separator U+001F, under one trigram index
// (items_search_trgm_idx, 0014): one index lookup instead of three OR-ed ones, one index to keep up
// on every item write, and a pattern without U+001F never matches across two fields. The index's
// statistics target is raised there, so the planner sees how common a pattern is and picks between
// the trigram lookup (rare patterns) and walking the items in id order (common ones).

/** The searched text of the item row under `alias`: must stay the index's expression word for word. */
export const itemSearchText = (alias: string) => `(${alias}.sku || E'\\x1f' || ${alias}.name || E'\\x1f' || coalesce(${alias}.barcode, ''))`;

/** `%q%` for ILIKE, with the pattern characters in q taken literally; null when there is no q. */
export const containsPattern = (q: string | undefined | null): string | null => (q ? `%${q.replace(/[\\%_]/g, (c) => '\\' + c)}%` : null);

/** SQL: the item under `alias` matches the pattern parameter (`$n`), or there is no pattern. */
export const itemMatches = (alias: string, param: string) => `(${param}::text is null or ${itemSearchText(alias)} ilike ${param})`;
