// The ledger: the ONLY code that writes stock_movements and stock_levels (invariant 1).
// One set-based statement applies any number of movements and their level changes, and in the
// same transaction signals the pushes and the stock alert check they cause (invariant 3). Callers
// pass their own transaction so an inbound event's record and its movements commit together
// (invariant 2).
import type { QueryConfig, QueryResultRow } from 'pg';
import type { MovementReason } from '../db/schema.ts';
import { alertsStockJob, pushJobTemplate } from '../db/job-specs.ts';
import { OUTBOX_ROW_KEY_SQL, outboxRow } from '../db/jobs.ts';
import { watchedSql } from '../db/live.ts';
import { KITS_OF } from '../db/kits.ts';
import { auditInsertFromJson, type AuditRow } from '../db/audit-row.ts';
import { commitWith, committedWith, named, NothingWritten, withTx, wroteJobs, type Db, type Tx } from '../db/pool.ts';
import { subscribedSql, webhookEventCtes, webhookJobRow } from '../db/webhook-events.ts';

export interface MovementInput {
  itemId: string;
  locationId: string;
  /** Signed: negative takes stock out. */
  qtyDelta: number;
  reason: MovementReason;
  sourceChannelId?: string | null;
  sourceEventId?: string | null;
  sourceUserId?: string | null;
  note?: string | null;
}

export interface LevelSnapshot {
  item_id: string;
  location_id: string;
  on_hand: number;
  reserved: number;
}

export interface ApplyResult {
  movements: number;
  /** The levels after the change (empty for batches touching more than 40 levels). */
  levels: LevelSnapshot[];
  /** Channels that now have listings waiting for a push. */
  channelIds: string[];
}

/** The stock.changed webhook payload: every level the statement changed (outbound webhooks). */
export const STOCK_CHANGED_PAYLOAD = (levels: string, reasons: string | null) =>
  `jsonb_build_object('levels', (select coalesce(jsonb_agg(jsonb_build_object('item_id', item_id, 'location_id', location_id, 'on_hand', on_hand,
     'reserved', reserved, 'available', on_hand - reserved) order by item_id, location_id), '[]'::jsonb) from ${levels})${
       reasons ? `, 'reasons', (select jsonb_agg(distinct reason) from ${reasons})` : ''
     })`;

/**
 * The CTEs `chans` and `signals` every level-changing statement ends with: the push signal for each
 * connected channel listing a changed item (or a kit made of one) and the debounced stock-alert
 * signal, as outbox rows of this transaction. Parameters by convention: $1 tenant, $3 and $4 the
 * jobs (levelChangeJobs: the push job with its channel left to append, the alert job). `guard`
 * gates the alert row.
 */
export function levelChangeSignals(changedItems: string, guard: string | null): string {
  return `chans as (
  select distinct l.channel_id from listings l
  join channels c on c.tenant_id = l.tenant_id and c.id = l.channel_id and c.status = 'connected'
  where l.tenant_id = $1 and (l.item_id in (${changedItems}) or l.item_id in (${KITS_OF('$1', changedItems)}))
), signals as (
  insert into job_outbox (key, job_key, task, payload, queue_name, run_at)
  select ${OUTBOX_ROW_KEY_SQL('(p.job_key || c.channel_id)')}, p.job_key || c.channel_id, p.task,
         p.payload || jsonb_build_object('channelId', c.channel_id), p.queue_name || c.channel_id, null
  from chans c cross join jsonb_to_record($3::jsonb) as p(job_key text, task text, payload jsonb, queue_name text)
  union all
  select ${OUTBOX_ROW_KEY_SQL('s.job_key')}, s.job_key, s.task, s.payload, s.queue_name, s.run_at
  from jsonb_to_record($4::jsonb) as s(job_key text, task text, payload jsonb, queue_name text, run_at timestamptz)
  ${guard ? `where ${guard}` : ''}
  on conflict (key) do nothing
  returning 1
)`;
}

/**
 * Whether a change can move any item across the line its stock alerts watch (at or below
 * max(threshold, 0)): an item whose available, summed over its locations, sat above that line
 * before the change and still does after it can neither raise nor resolve an alert, so it needs
 * no check. A take-out far above the line (most API writes, most sales) then signals no alert job:
 * no outbox row, no relay, no job. `levels`: the changed levels as the statement left them
 * (item_id, location_id, on_hand, reserved; a level's row lock makes these the latest values);
 * `deltas`: the change to available per (item_id, location_id) as column `d`. Other locations'
 * levels are read from the statement's snapshot.
 */
export const ALERT_LINE_CROSSABLE = (levels: string, deltas: string) => `exists (
  select 1 from (select item_id, sum(on_hand - reserved) as after from ${levels} group by item_id) n
  join items i on i.tenant_id = $1 and i.id = n.item_id
  cross join lateral (select coalesce(sum(s.on_hand - s.reserved), 0) as rest from stock_levels s
    where s.tenant_id = $1 and s.item_id = n.item_id
      and not exists (select 1 from ${levels} c where c.item_id = s.item_id and c.location_id = s.location_id)) o
  cross join lateral (select coalesce(sum(x.d), 0) as d from ${deltas} x where x.item_id = n.item_id) m
  where least(o.rest + n.after, o.rest + n.after - m.d) <= greatest(i.low_stock_threshold, 0))`;

/** The bound values $3, $4 of levelChangeSignals, from the job registry (src/db/job-specs.ts). */
export function levelChangeJobs(tenantId: string): [string, string] {
  return [JSON.stringify(outboxRow(pushJobTemplate(tenantId))), JSON.stringify(outboxRow(alertsStockJob(tenantId)))];
}

// One statement, one round trip: movements, levels (stamped with this transaction's id, which is
// how Sync finds what changed), the push signal for every connected channel listing these items and
// the debounced stock-alert signal (outbox rows, invariant 3), the stock.changed webhook event when the
// tenant subscribes to it (src/db/webhook-events.ts), and the live-stream notification.
// Shapes (`Shape`): 'movements' applies $2 as given. 'checked' first runs the CTEs `lvl` and `chk`
// (DECREASE_CHECK) and applies its input only when chk.ok, returning chk beside the result: a checked
// take-out in one round trip. It also writes the caller's audit row ($8, or none when null) when it
// applied, so that it can be its transaction's last statement and carry the commit. 'lean' is
// 'checked' without the webhook event and the live-stream parts, for a tenant nobody subscribes to
// or watches (most API writers): chk.ok also requires that nobody does, and chk.heard says when
// somebody does, so the caller runs the full statement instead (applyCheckedDecrease).
type Shape = 'movements' | 'checked' | 'lean';
const applySql = (shape: Shape) => {
  const checked = shape !== 'movements';
  const full = shape !== 'lean';
  return `
with ${checked ? `${DECREASE_CHECK(full)}, au as (${auditInsertFromJson('$8', '$8::jsonb is not null and (select ok from chk)')}),` : ''} input as (
  select * from jsonb_to_recordset($2::jsonb) as x(
    item_id text, location_id text, qty_delta int, reason text,
    source_channel_id text, source_event_id text, source_user_id text, note text)
  ${checked ? 'where (select ok from chk)' : ''}
), agg as (
  select item_id, location_id, sum(qty_delta)::int as delta from input group by 1, 2
), lv as (
  insert into stock_levels as l (tenant_id, item_id, location_id, on_hand, reserved, updated_at, change_txid)
  select $1, item_id, location_id, delta, 0, now(), pg_current_xact_id()::text::bigint from agg
  order by item_id, location_id  -- one lock order for every writer: no deadlocks between batches
  on conflict (tenant_id, item_id, location_id)
  do update set on_hand = l.on_hand + excluded.on_hand, updated_at = excluded.updated_at, change_txid = excluded.change_txid
  returning item_id, location_id, on_hand, reserved
), mv as (
  insert into stock_movements (tenant_id, item_id, location_id, qty_delta, reason,
                               source_channel_id, source_event_id, source_user_id, note)
  select $1, item_id, location_id, qty_delta, reason, source_channel_id, source_event_id, source_user_id, note
  from input
  returning 1
), ${levelChangeSignals('select item_id from agg', ALERT_LINE_CROSSABLE('lv', '(select item_id, delta as d from agg)'))}${
    // Only a change is an event: a refused take-out (nothing in lv) records none.
    full ? `, ${webhookEventCtes('$1', "'stock.changed'", STOCK_CHANGED_PAYLOAD('lv', 'input'), checked ? '$9' : '$5', 'exists (select 1 from lv)')}` : ''
  }, out as (
  select (select count(*) from mv)::int as movements,
         -- the new levels, for callers and the live stream; a big batch returns none (refresh instead)
         case when (select count(*) from agg) <= 40 then coalesce((select json_agg(lv) from lv), '[]') end as levels,
         coalesce((select array_agg(channel_id) from chans), '{}') as channel_ids,
         -- outbox rows written: none means the relay has nothing to move for this statement
         (select count(*) from signals)::int${full ? ' + (select count(*) from wh_jobs)::int' : ''} as jobs
)
-- NOTIFY payloads stop at 8000 bytes: a big batch is announced as "refresh" instead of listed.
select movements, levels, channel_ids, jobs, ${checked ? '(select row_to_json(chk) from chk)' : 'null::json'} as checked, ${
    full
      ? `case when movements > 0 and ${watchedSql('$1::text')} then
         pg_notify('stockclerk', json_build_object('tenant_id', $1::text, 'type', 'stock.changed', 'data',
           case when levels is not null then json_build_object('levels', levels) else json_build_object('truncated', true) end)::text) end`
      : 'null'
  } as notified
from out`;
};

const APPLY_SQL = applySql('movements');

/**
 * A take-out's check, for the checked shapes: $5 item, $6 location, $7 the (negative) delta. The
 * level is locked FOR UPDATE, which reads its latest committed version whatever the statement's
 * snapshot, so two concurrent take-outs of the last unit cannot both pass. A level that does not
 * exist yet holds nothing to take. A kit holds no stock of its own. Without the webhook and live
 * parts (`full` false), `heard`: a live endpoint subscribes to stock.changed or somebody watches the
 * tenant, read from the same snapshot the full statement's own lookups would use.
 */
const DECREASE_CHECK = (full: boolean) => `lvl as (
  select on_hand from stock_levels where tenant_id = $1 and item_id = $5 and location_id = $6 for update
), chk0 as (
  select exists(select 1 from items where tenant_id = $1 and id = $5) as item,
         exists(select 1 from locations where tenant_id = $1 and id = $6) as location,
         exists(select 1 from item_components where tenant_id = $1 and kit_item_id = $5) as kit,
         coalesce((select on_hand from lvl), 0) as on_hand,
         ${full ? 'false' : `(${subscribedSql('$1', "'stock.changed'")} or ${watchedSql('$1')})`} as heard
), chk as (
  select item, location, kit, on_hand, heard, (item and location and not kit and not heard and on_hand + $7::int >= 0) as ok from chk0
)`;
const APPLY_CHECKED_SQL = applySql('checked');
const APPLY_LEAN_SQL = applySql('lean');

/**
 * Tenants whose lean take-out last found a subscriber or a watcher, until when (ms): their take-outs
 * go straight to the full statement meanwhile. A hint of this process only, never trusted: the lean
 * statement checks again each time.
 */
const heardUntil = new Map<string, number>();
const HEARD_FOR_MS = 60_000;

function heardRecently(tenantId: string, now: number): boolean {
  const until = heardUntil.get(tenantId);
  if (until === undefined) return false;
  if (until > now) return true;
  heardUntil.delete(tenantId);
  return false;
}

function markHeard(tenantId: string, now: number): void {
  // Bounded: expired hints go first, then (only if that was not enough) all of them.
  if (heardUntil.size >= 10_000) {
    for (const [t, until] of heardUntil) if (until <= now) heardUntil.delete(t);
    if (heardUntil.size >= 10_000) heardUntil.clear();
  }
  heardUntil.set(tenantId, now + HEARD_FOR_MS);
}

/** What a checked take-out found: whether the item and location exist, whether the item is a kit, what was on hand. */
export interface DecreaseCheck {
  item: boolean;
  location: boolean;
  kit: boolean;
  on_hand: number;
  ok: boolean;
}

/** The lean statement's check: also whether somebody subscribes to the tenant's stock changes or watches it. */
interface LeanCheck extends DecreaseCheck {
  heard: boolean;
}

const REASONS: ReadonlySet<string> = new Set(['sale', 'return', 'receipt', 'adjustment', 'count', 'transfer_in', 'transfer_out']);

export class LedgerInputError extends Error {}

function check(m: MovementInput): void {
  if (!Number.isInteger(m.qtyDelta) || m.qtyDelta === 0 || Math.abs(m.qtyDelta) > 1_000_000_000) {
    throw new LedgerInputError(`qty_delta must be a non-zero integer, got ${m.qtyDelta}`);
  }
  if (!REASONS.has(m.reason)) throw new LedgerInputError(`unknown reason ${m.reason}`);
}

/** A movement as the ledger statement's `input` recordset reads it. */
const inputRow = (m: MovementInput) => ({
  item_id: m.itemId,
  location_id: m.locationId,
  qty_delta: m.qtyDelta,
  reason: m.reason,
  source_channel_id: m.sourceChannelId ?? null,
  source_event_id: m.sourceEventId ?? null,
  source_user_id: m.sourceUserId ?? null,
  note: m.note ?? null,
});

/** Applies movements inside the caller's transaction. */
export async function applyMovements(tx: Tx, tenantId: string, movements: MovementInput[]): Promise<ApplyResult> {
  if (movements.length === 0) return { movements: 0, levels: [], channelIds: [] };
  movements.forEach(check);
  const { rows: out } = await tx.query<{ movements: number; levels: LevelSnapshot[] | null; channel_ids: string[]; jobs: number }>(
    named('ledger_apply', APPLY_SQL, [tenantId, JSON.stringify(movements.map(inputRow)), ...levelChangeJobs(tenantId), webhookJobRow(tenantId)]),
  );
  const r = out[0]!;
  if (r.jobs > 0) wroteJobs(tx);
  return { movements: r.movements, levels: r.levels ?? [], channelIds: r.channel_ids };
}

export interface CheckedDecreaseOptions {
  /** Written by the statement itself, and only when the take-out applied. */
  audit?: AuditRow;
  /**
   * The statement is its transaction's last: it carries the commit where the transaction's owner
   * allows (commitWith, src/db/pool.ts). A take-out that did not apply changed nothing, so the
   * caller may still refuse it (409) after the commit.
   */
  last?: boolean;
}

/**
 * One take-out (a negative delta) checked and applied in one statement: applied only when the item
 * and location exist, the item is not a kit and the level holds enough; `check` says which failed.
 */
export async function applyCheckedDecrease(
  tx: Tx,
  tenantId: string,
  m: MovementInput,
  opts: CheckedDecreaseOptions = {},
): Promise<{ check: DecreaseCheck; result: ApplyResult }> {
  check(m);
  if (m.qtyDelta >= 0) throw new LedgerInputError('a checked take-out needs a negative qty_delta');
  const run = opts.last ? commitWith : <R extends QueryResultRow>(t: Tx, q: QueryConfig) => t.query<R>(q);
  const now = Date.now();
  const lean = !heardRecently(tenantId, now);
  const values = [
    tenantId,
    JSON.stringify([inputRow(m)]),
    ...levelChangeJobs(tenantId),
    m.itemId,
    m.locationId,
    m.qtyDelta,
    opts.audit ? JSON.stringify(opts.audit) : null,
  ];
  const { rows: out } = await run<{ movements: number; levels: LevelSnapshot[] | null; channel_ids: string[]; jobs: number; checked: LeanCheck }>(
    tx,
    lean ? named('ledger_apply_lean', APPLY_LEAN_SQL, values) : named('ledger_apply_checked', APPLY_CHECKED_SQL, [...values, webhookJobRow(tenantId)]),
  );
  const r = out[0]!;
  if (r.checked.heard) {
    // Somebody subscribes or watches: the lean statement applied nothing. The full one runs in
    // this transaction or, when the lean one carried its commit, in the caller's transaction again.
    markHeard(tenantId, now);
    if (committedWith(tx)) throw new NothingWritten('the lean take-out found a subscriber or watcher');
    return applyCheckedDecrease(tx, tenantId, m, opts);
  }
  if (r.jobs > 0) wroteJobs(tx);
  const { heard: _heard, ...found } = r.checked;
  return { check: found, result: { movements: r.movements, levels: r.levels ?? [], channelIds: r.channel_ids } };
}

/** Applies movements in a transaction of their own. */
export function recordMovements(db: Db, tenantId: string, movements: MovementInput[]): Promise<ApplyResult> {
  return withTx(db, (tx) => applyMovements(tx, tenantId, movements));
}

export interface LedgerMismatch {
  tenant_id: string;
  item_id: string;
  location_id: string;
  on_hand: number;
  movements_sum: number;
}

/** Recomputes every level from its movements; an empty list means the ledger holds. */
export async function verifyLedger(db: Pick<Db, 'query'>): Promise<LedgerMismatch[]> {
  const { rows } = await db.query<LedgerMismatch>(`
    select coalesce(l.tenant_id, m.tenant_id) as tenant_id, coalesce(l.item_id, m.item_id) as item_id,
           coalesce(l.location_id, m.location_id) as location_id,
           coalesce(l.on_hand, 0) as on_hand, coalesce(m.total, 0)::int as movements_sum
    from stock_levels l
    full join (select tenant_id, item_id, location_id, sum(qty_delta) as total
               from stock_movements group by 1, 2, 3) m
      on m.tenant_id = l.tenant_id and m.item_id = l.item_id and m.location_id = l.location_id
    where coalesce(l.on_hand, 0) <> coalesce(m.total, 0)
    order by 1, 2, 3`);
  return rows;
}
