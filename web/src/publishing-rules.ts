// The publish panel's pure decisions (no React, no fetch; test/web/publishing.test.ts holds them to
// their word): which action each publication state offers next, and the lines a refusal shows.

export type CatalogAction = 'publish' | 'update' | 'delist' | 'relist';

/** What a channel offers next for a product in a state (null: never published there). */
export function actionsFor(state: string | null): CatalogAction[] {
  if (state === 'publishing') return [];
  if (state === 'live') return ['update', 'delist'];
  if (state === 'delisted') return ['relist'];
  return ['publish']; // never published, a draft, or an error: publishing again is an update where it went live
}

/**
 * A 422 cannot_publish names each refusing channel in its details: the message, then one line
 * each. null when the error has no detail messages (the caller shows its sentence instead).
 */
export function detailLines(err: unknown): string[] | null {
  const e = err as { message?: unknown; details?: unknown } | null;
  if (!e || !Array.isArray(e.details)) return null;
  const lines = (e.details as Array<{ message?: unknown }>).map((d) => d?.message).filter((m): m is string => typeof m === 'string' && m !== '');
  if (lines.length === 0) return null;
  const head = typeof e.message === 'string' ? e.message : '';
  return [head, ...lines.filter((l) => l !== head)].filter(Boolean);
}
