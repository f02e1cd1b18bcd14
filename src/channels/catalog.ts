// Running a catalog plan (contract.ts, "The catalog side"): the requests go out in order, each
// answer's captured values fill the `{{name}}` placeholders of the requests after it. The dry run
// shows the same plan unfilled; `fillPlan` is how a test (or a merchant) lines the two up.
import { ChannelError, type CatalogSide, type PlannedRequest } from './contract.ts';

const PLACEHOLDER = /\{\{([A-Za-z_][A-Za-z0-9_.-]*)\}\}/g;

/** `value` with every `{{name}}` known in `captured` replaced, in strings at any depth. */
const isRawJson = (JSON as unknown as { isRawJSON(v: unknown): boolean }).isRawJSON;

export function fillPlaceholders<T>(value: T, captured: Record<string, string>): T {
  if (typeof value === 'string') return value.replace(PLACEHOLDER, (m, name: string) => captured[name] ?? m) as T;
  if (Array.isArray(value)) return value.map((v) => fillPlaceholders(v, captured)) as T;
  if (isRawJson(value)) return value; // an exact id (exactInt in json.ts): written as is
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillPlaceholders(v, captured)])) as T;
  }
  return value;
}

/** A request with its placeholders filled (url, body and upload). */
export function fillRequest(req: PlannedRequest, captured: Record<string, string>): PlannedRequest {
  return {
    ...req,
    url: fillPlaceholders(req.url, captured),
    ...(req.body === undefined ? {} : { body: fillPlaceholders(req.body, captured) }),
    ...(req.upload ? { upload: fillPlaceholders(req.upload, captured) } : {}),
  };
}

/** The value at a dotted path (`responses.0.offerId`) of a JSON answer, as a string; undefined if absent. */
export function pick(answer: unknown, path: string): string | undefined {
  let cur: unknown = answer;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined || cur === null || typeof cur === 'object' ? undefined : String(cur);
}

export interface PlanStep {
  index: number;
  request: PlannedRequest;
  answer: unknown;
  /** The answer is what `recover` found an earlier, unanswered sending had made (nothing was sent). */
  recovered?: boolean;
}

/** The values `request` captures from `answer`; an answer missing one is refused. */
export function capturesOf(request: PlannedRequest, answer: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, path] of Object.entries(request.capture ?? {})) {
    const v = pick(answer, path);
    if (v === undefined) throw new ChannelError('permanent', `${request.label}: the answer has no ${path}`);
    out[name] = v;
  }
  return out;
}

/**
 * A `recoverable` request that went out and got no answer: its index and when it first went out.
 * A job keeps it among its captured values under AWAITING (not a placeholder name: those start
 * with a letter or _), so the retry knows, on whichever worker, to look before sending it again.
 */
export interface Awaiting {
  index: number;
  since: Date;
}
export const AWAITING = '@awaiting';
export const awaitingMark = (a: Awaiting): string => `${a.index}@${a.since.toISOString()}`;

/** The mark in `captured`, if any and readable. */
export function awaitingOf(captured: Record<string, string>): Awaiting | null {
  const m = /^(\d+)@(.+)$/.exec(captured[AWAITING] ?? '');
  const since = m ? new Date(m[2]!) : null;
  return m && since && Number.isFinite(since.getTime()) ? { index: Number(m[1]), since } : null;
}

/**
 * Sends `requests` in order through `side.send`, capturing as each says. Starts at `from` with
 * `captured` (a retried job resumes after the steps that already went through). `onStep` runs
 * after each answer: the job stores its progress there. A `recoverable` request goes out only
 * after `beforeSend` (the job records that it is out); when `awaiting` says an earlier attempt
 * sent this very step and heard nothing, `recover` is asked first, and what it finds stands for
 * the answer, so a draft listing is not created twice.
 */
export async function runPlan(
  side: Pick<CatalogSide, 'send'>,
  requests: PlannedRequest[],
  opts: {
    from?: number;
    captured?: Record<string, string>;
    beforeStep?: (index: number) => Promise<void>;
    awaiting?: Awaiting | null;
    recover?: (index: number, request: PlannedRequest, since: Date) => Promise<{ answer: unknown } | null>;
    beforeSend?: (index: number, request: PlannedRequest) => Promise<void>;
    onStep?: (step: PlanStep, captured: Record<string, string>) => Promise<void>;
  } = {},
): Promise<Record<string, string>> {
  const captured = { ...(opts.captured ?? {}) };
  for (let index = opts.from ?? 0; index < requests.length; index++) {
    await opts.beforeStep?.(index);
    const request = fillRequest(requests[index]!, captured);
    const unfilled = JSON.stringify([request.url, request.body ?? null]).match(PLACEHOLDER);
    if (unfilled) throw new ChannelError('permanent', `${request.label}: no value for ${unfilled.join(', ')} from the requests before it`);
    const lost = request.recoverable && opts.awaiting?.index === index && opts.recover ? opts.awaiting : null;
    const found = lost ? await opts.recover!(index, request, lost.since) : null;
    let answer: unknown;
    if (found) answer = found.answer;
    else {
      // The look took this step's call: the send needs one of its own.
      if (lost) await opts.beforeStep?.(index);
      if (request.recoverable) await opts.beforeSend?.(index, request);
      answer = await side.send(request);
    }
    Object.assign(captured, capturesOf(request, answer));
    await opts.onStep?.({ index, request, answer, ...(found ? { recovered: true } : {}) }, captured);
  }
  return captured;
}

/** The image StockClerk serves, as bytes (a read: it goes out during a dry run too). */
export async function fetchImage(url: string, timeoutMs: number): Promise<{ bytes: Uint8Array; type: string }> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new ChannelError('transient', `fetching the image ${url}: ${(err as Error).message}`);
  }
  if (res.status >= 500) throw new ChannelError('transient', `fetching the image ${url} -> ${res.status}`);
  if (!res.ok) throw new ChannelError('permanent', `The image ${url} could not be read (${res.status}): upload it again`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), type: res.headers.get('content-type') ?? 'application/octet-stream' };
}

/** Digits after the point in `currency`'s major unit (2 for GBP, 0 for JPY); 2 when unknown. */
function digitsOf(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Minor units -> a decimal string in major units ("12.50"), as marketplaces that take strings want. */
export function amountOf(minor: number, currency: string): string {
  const digits = digitsOf(currency);
  return (minor / 10 ** digits).toFixed(digits);
}

/** A decimal amount in major units -> minor units of its currency. */
export const minorOf = (amount: string, currency: string): number => Math.round(Number(amount) * 10 ** digitsOf(currency));
