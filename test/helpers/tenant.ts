// A tenant with items, opening stock and emulated channels connected the way a merchant would.
import type { EmulatedChannelType as ChannelType } from '../../src/channels/registry.ts';
import { createItems } from '../../src/db/tenants.ts';
import { connectEmulatedChannel, type ConnectedChannel, type EmulatorSet } from '../../src/demo/emulated.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { eventually, registerTenant, type Harness } from './stockclerk.ts';
import { unseenChange } from '../../src/db/push-cursor.ts';

export interface EmulatedTenant {
  tenantId: string;
  token: string;
  locationId: string;
  itemIds: Map<string, string>;
  channels: Partial<Record<ChannelType, ConnectedChannel>>;
}

export async function emulatedTenant(
  h: Harness,
  emus: EmulatorSet,
  opts: {
    types: ChannelType[];
    items: Array<{ sku: string; name: string; qty: number; lowStockThreshold?: number; externalId?: string }>;
    settings?: Partial<Record<ChannelType, Record<string, unknown>>>;
  },
): Promise<EmulatedTenant> {
  const t = await registerTenant(h.url, 'Emulated Shop');
  const ctx = h.sc.ctx;
  const ids = await createItems(
    ctx.db,
    t.tenantId,
    opts.items.map((i) => ({ sku: i.sku, name: i.name, lowStockThreshold: i.lowStockThreshold })),
  );
  const stocked = opts.items.map((it, i) => ({ it, id: ids[i]! })).filter((x) => x.it.qty !== 0);
  await recordMovements(
    ctx.db,
    t.tenantId,
    stocked.map((x) => ({ itemId: x.id, locationId: t.locationId, qtyDelta: x.it.qty, reason: 'receipt' as const })),
  );
  const channels: EmulatedTenant['channels'] = {};
  for (const type of opts.types) {
    channels[type] = await connectEmulatedChannel(ctx, {
      tenantId: t.tenantId,
      type,
      emulator: emus[type],
      name: `${type} channel`,
      stockclerkUrl: h.url,
      items: opts.items,
      locationIds: [t.locationId],
      settings: opts.settings?.[type],
    });
  }
  return { tenantId: t.tenantId, token: t.token, locationId: t.locationId, itemIds: new Map(opts.items.map((it, i) => [it.sku, ids[i]!])), channels };
}

/** What an emulator account holds for a SKU: quantity, or availability for availability-only platforms. */
export function held(emus: EmulatorSet, type: ChannelType, accountId: string, sku: string): { qty: number | null; available: boolean | null } | undefined {
  const emu = emus[type];
  const acc = emu.accounts.get(accountId);
  return acc ? emu.spec.state(acc).find((s: { sku: string | null }) => s.sku === sku) : undefined;
}

export async function sale(
  emus: EmulatorSet,
  type: ChannelType,
  accountId: string,
  sku: string,
  qty = 1,
): Promise<{ ok: boolean; status: number; body: unknown }> {
  const res = await fetch(`${emus[type].url}/_control/accounts/${accountId}/sale`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku, qty }),
  });
  const body = await res.json().catch(() => null);
  const ok = res.ok && !(body && typeof body === 'object' && 'ok' in body && (body as { ok: unknown }).ok === false);
  return { ok, status: res.status, body };
}

/**
 * The fault mix of the property tests: a fifth of platform calls fail (8% 5xx, 6% 429, 6% timeouts
 * that hang past the client's 300 ms), a third of webhooks arrive twice and a third out of order.
 */
export const CHANNEL_FAULTS = {
  errorRate: 0.08,
  throttleRate: 0.06,
  timeoutRate: 0.06,
  timeoutHangMs: 400,
  duplicateRate: 0.3,
  reorderRate: 0.3,
  reorderDelayMs: 250,
};
/** Calls stop failing (webhook duplication may go on): how a property test lets the loop settle. */
export const NO_CALL_FAULTS = { errorRate: 0, throttleRate: 0, timeoutRate: 0 };

/**
 * Ends the call faults of a fault run: they stay on until each channel in `felt` has answered at
 * least one faulty call (a channel whose budget spaces its calls out, or a busy machine, may make
 * few in a short run; a run that never faulted would prove nothing), then stop on all `types`.
 */
export async function endCallFaults(emus: EmulatorSet, types: readonly ChannelType[], felt: readonly ChannelType[] = types, timeoutMs = 60_000): Promise<void> {
  await eventually(() => felt.every((type) => emus[type].stats.faults > 0), timeoutMs, `a fault on each of ${felt.join(', ')}`);
  for (const type of types) emus[type].knobs = { ...emus[type].knobs, ...NO_CALL_FAULTS };
}

/** Waits until nothing is left to do: no pending events, no dirty listings, no sync/watcher jobs, no webhooks in flight. */
export async function quiescent(h: Harness, emus: EmulatorSet, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let calm = 0;
  for (;;) {
    await Promise.all(
      Object.values(emus)
        .filter((e) => typeof e === 'object')
        .map((e) => (e as { drain(): Promise<void> }).drain()),
    );
    const { rows } = await h.sc.ctx.db.query<{ busy: number }>(
      `select (select count(*) from channel_events where applied_at is null)
            + (select count(*) from listings l join channels c on c.tenant_id = l.tenant_id and c.id = l.channel_id
               where l.item_id is not null and c.status = 'connected'
                 and (l.dirty_seq > l.pushed_seq or exists (select 1 from stock_levels s where s.tenant_id = l.tenant_id
                                                             and s.item_id = l.item_id and ${unseenChange('s', 'c')})))
            + (select count(*) from job_outbox)
            + (select count(*) from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
               where t.identifier in ('watcher_apply', 'sync_push') and j.attempts < j.max_attempts) as busy`,
    );
    calm = rows[0]!.busy === 0 ? calm + 1 : 0;
    if (calm >= 3) return;
    if (Date.now() > deadline) {
      const jobs = await h.sc.ctx.db.query(
        `select t.identifier, j.job_queue_id, j.key, j.attempts, j.max_attempts, j.locked_by, j.run_at, j.last_error
         from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id`,
      );
      const queues = await h.sc.ctx.db.query(`select queue_name, locked_by, locked_at from graphile_worker._private_job_queues where locked_by is not null`);
      const beats = await h.sc.ctx.db.query(`select * from worker_heartbeats`);
      // Which channels are still busy, and with what: events not applied, listings not pushed (a sample).
      const channels = await h.sc.ctx.db.query(
        `select c.type, c.status, (select count(*) from channel_events e where e.tenant_id = c.tenant_id and e.channel_id = c.id and e.applied_at is null)::int as unapplied,
                (select json_agg(json_build_object('sku', l.external_sku, 'state', l.state, 'dirty', l.dirty_seq, 'pushed', l.pushed_seq, 'last_pushed', l.last_pushed_qty, 'seen', l.last_seen_qty)) from
                   (select * from listings l where l.tenant_id = c.tenant_id and l.channel_id = c.id and l.item_id is not null
                      and (l.dirty_seq > l.pushed_seq or exists (select 1 from stock_levels s where s.tenant_id = l.tenant_id and s.item_id = l.item_id and ${unseenChange('s', 'c')}))
                    limit 3) l) as unpushed
         from channels c`,
      );
      throw new Error(
        `not quiescent after ${timeoutMs} ms (busy ${rows[0]!.busy}): ${JSON.stringify({ channels: channels.rows, jobs: jobs.rows, queues: queues.rows, beats: beats.rows })}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
