// Small pieces every adapter needs. HTTP calls and their error mapping are in http-client.ts; the
// per-call timeout is the channel's `request_timeout_ms` setting (fields.ts), parsed with its
// default before the adapter is built, so adapters read `conn.settings.request_timeout_ms` as is.

/** Splits `xs` into runs of at most `n` (platform batch limits). */
export function chunk<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** A base URL without trailing slashes, ready for `base + '/path'`. */
export function trimBase(url: string): string {
  return url.replace(/\/+$/, '');
}
