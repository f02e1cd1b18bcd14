// Sync rules: conditions (channel, category, tag, product, stock level) -> an action on what a
// channel is told (cap, keep back, percent, hide below, price adjustment), in priority order. The
// list toggles and edits rules; the form shows the API's 400 details at the field they name; the dry
// run says, for one SKU on one channel, which rules applied and why (src/domain/sync-rules.ts).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiError, errorText, type Answer, type BodyOf } from '../api.ts';
import { useCan } from '../hooks.ts';
import { Badge, Empty, ErrorBox, Loading, PageHeader } from '../ui.tsx';

type Rule = Answer<'/sync-rules'>['data'][number];
type RuleBody = BodyOf<'/sync-rules', 'post'>;
type ActionType = Rule['action']['type'];
type DryRun = Answer<'/sync-rules/dry-run', 'post'>;

const ACTIONS: Array<[ActionType, string, string]> = [
  ['cap', 'Cap at', 'Tell the channel at most N'],
  ['keep_back', 'Keep back', 'Hold N back from the channel'],
  ['percent', 'Percent', 'Offer N% (rounded down)'],
  ['hide_below', 'Hide below', 'Tell the channel 0 when fewer than N remain'],
  ['price_adjust', 'Adjust price', 'Move the price by N (percent or pence)'],
];
const ACTION_LABEL = Object.fromEntries(ACTIONS.map(([t, label]) => [t, label])) as Record<ActionType, string>;

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const num = (s: string) => (s.trim() === '' ? undefined : Number(s));

export function actionText(a: Rule['action']): string {
  if (a.type === 'price_adjust') return a.unit === 'percent' ? `Price ${a.value >= 0 ? '+' : ''}${a.value}%` : `Price ${a.value >= 0 ? '+' : ''}${a.value}p`;
  if (a.type === 'percent') return `Offer ${a.value}%`;
  return `${ACTION_LABEL[a.type]} ${a.value}`;
}

function conditionText(c: Rule['conditions'], channelName: (id: string) => string): string {
  const parts: string[] = [];
  if (c.channel_ids?.length) parts.push(`on ${c.channel_ids.map(channelName).join(' or ')}`);
  if (c.categories?.length) parts.push(`in ${c.categories.join(' or ')}`);
  if (c.tags?.length) parts.push(`tagged ${c.tags.join(' or ')}`);
  if (c.product_ids?.length) parts.push(`${c.product_ids.length} product${c.product_ids.length === 1 ? '' : 's'}`);
  if (c.stock_below !== undefined) parts.push(`stock below ${c.stock_below}`);
  if (c.stock_at_least !== undefined) parts.push(`stock at least ${c.stock_at_least}`);
  return parts.length ? parts.join(', ') : 'every listing';
}

interface Draft {
  name: string;
  priority: string;
  enabled: boolean;
  channel_ids: string[];
  categories: string;
  tags: string;
  product_ids: string;
  stock_below: string;
  stock_at_least: string;
  type: ActionType;
  value: string;
  unit: 'percent' | 'minor';
}

const blank: Draft = {
  name: '',
  priority: '100',
  enabled: true,
  channel_ids: [],
  categories: '',
  tags: '',
  product_ids: '',
  stock_below: '',
  stock_at_least: '',
  type: 'cap',
  value: '',
  unit: 'percent',
};

function draftOf(r: Rule): Draft {
  const c = r.conditions;
  return {
    name: r.name,
    priority: String(r.priority),
    enabled: r.enabled,
    channel_ids: c.channel_ids ?? [],
    categories: (c.categories ?? []).join(', '),
    tags: (c.tags ?? []).join(', '),
    product_ids: (c.product_ids ?? []).join(', '),
    stock_below: c.stock_below?.toString() ?? '',
    stock_at_least: c.stock_at_least?.toString() ?? '',
    type: r.action.type,
    value: String(r.action.value),
    unit: r.action.unit ?? 'percent',
  };
}

function bodyOf(d: Draft): RuleBody {
  const value = Number(d.value);
  return {
    name: d.name,
    priority: Number(d.priority),
    enabled: d.enabled,
    conditions: {
      channel_ids: d.channel_ids,
      categories: list(d.categories),
      tags: list(d.tags),
      product_ids: list(d.product_ids),
      stock_below: num(d.stock_below),
      stock_at_least: num(d.stock_at_least),
    },
    action: d.type === 'price_adjust' ? { type: 'price_adjust', value, unit: d.unit } : { type: d.type, value },
  };
}

/** The API's 400 details by field path ("conditions.tags", "action.value" ...). */
function fieldErrors(err: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (err instanceof ApiError && Array.isArray(err.details)) {
    for (const d of err.details as Array<{ path: string; message: string }>) {
      const key = d.path.split('.').slice(0, 2).join('.');
      if (!out.has(key)) out.set(key, d.message);
    }
  }
  return out;
}

function RuleForm({ rule, channels, onDone }: { rule: Rule | null; channels: Array<{ id: string; name: string }>; onDone: () => void }) {
  const qc = useQueryClient();
  const [d, setD] = useState<Draft>(rule ? draftOf(rule) : blank);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((x) => ({ ...x, [k]: v }));
  const errs = fieldErrors(error);
  const fieldError = (...keys: string[]) => {
    const msg = keys.map((k) => errs.get(k)).find(Boolean);
    return msg ? (
      <small className="field-error" data-testid="field-error">
        {msg}
      </small>
    ) : null;
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = bodyOf(d);
      if (rule) await api.patch('/sync-rules/{id}', { path: { id: rule.id }, body });
      else await api.post('/sync-rules', { body });
      await qc.invalidateQueries({ queryKey: ['sync-rules'] });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const hint = ACTIONS.find(([t]) => t === d.type)![2];
  return (
    <form className="card stack rule-form" aria-label="Sync rule" onSubmit={submit}>
      <h2>{rule ? `Edit “${rule.name}”` : 'New rule'}</h2>
      <div className="fields">
        <label className="wide">
          Name
          <input name="name" value={d.name} onChange={(e) => set('name', e.target.value)} required />
          {fieldError('name')}
        </label>
        <label>
          Priority
          <input name="priority" type="number" min={0} value={d.priority} onChange={(e) => set('priority', e.target.value)} />
          <small className="muted">Lower runs first</small>
          {fieldError('priority')}
        </label>
        <label className="row">
          <input name="enabled" type="checkbox" checked={d.enabled} onChange={(e) => set('enabled', e.target.checked)} /> Enabled
        </label>
      </div>
      <fieldset className="plain-fieldset">
        <legend className="label">When (every condition you set must hold)</legend>
        {channels.length > 0 && (
          <div className="rule-channels" role="group" aria-label="Channels">
            <span className="muted">Channels (none ticked: every channel)</span>
            {channels.map((c) => (
              <label key={c.id} className="row">
                <input
                  type="checkbox"
                  checked={d.channel_ids.includes(c.id)}
                  onChange={(e) => set('channel_ids', e.target.checked ? [...d.channel_ids, c.id] : d.channel_ids.filter((x) => x !== c.id))}
                />
                {c.name}
              </label>
            ))}
            {fieldError('conditions.channel_ids')}
          </div>
        )}
        <div className="fields">
          <label>
            Categories
            <input name="categories" placeholder="Clothing, Gifts" value={d.categories} onChange={(e) => set('categories', e.target.value)} />
            {fieldError('conditions.categories')}
          </label>
          <label>
            Tags
            <input name="tags" placeholder="fragile, clearance" value={d.tags} onChange={(e) => set('tags', e.target.value)} />
            {fieldError('conditions.tags')}
          </label>
          <label>
            Product ids
            <input name="product_ids" placeholder="prd_…" value={d.product_ids} onChange={(e) => set('product_ids', e.target.value)} />
            {fieldError('conditions.product_ids')}
          </label>
          <label>
            Stock below
            <input name="stock_below" type="number" min={0} value={d.stock_below} onChange={(e) => set('stock_below', e.target.value)} />
            {fieldError('conditions.stock_below')}
          </label>
          <label>
            Stock at least
            <input name="stock_at_least" type="number" min={0} value={d.stock_at_least} onChange={(e) => set('stock_at_least', e.target.value)} />
            {fieldError('conditions.stock_at_least')}
          </label>
        </div>
      </fieldset>
      <fieldset className="plain-fieldset">
        <legend className="label">Then</legend>
        <div className="fields">
          <label>
            Action
            <select name="type" value={d.type} onChange={(e) => set('type', e.target.value as ActionType)}>
              {ACTIONS.map(([t, label]) => (
                <option key={t} value={t}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Value
            <input name="value" type="number" value={d.value} onChange={(e) => set('value', e.target.value)} required />
            {fieldError('action.value', 'action')}
          </label>
          {d.type === 'price_adjust' && (
            <label>
              Unit
              <select name="unit" value={d.unit} onChange={(e) => set('unit', e.target.value as Draft['unit'])}>
                <option value="percent">percent</option>
                <option value="minor">pence</option>
              </select>
            </label>
          )}
        </div>
        <small className="muted">{hint}. Quantity actions apply in the order keep back, percent, hide below, cap.</small>
      </fieldset>
      {error !== null && errs.size === 0 && (
        <p className="form-error" role="alert">
          {errorText(error)}
        </p>
      )}
      <div className="row">
        <button className="primary" type="submit" disabled={busy}>
          {rule ? 'Save rule' : 'Create rule'}
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function DryRunPanel({ channels }: { channels: Array<{ id: string; name: string }> }) {
  const [channel, setChannel] = useState(channels[0]?.id ?? '');
  const [sku, setSku] = useState('');
  const [result, setResult] = useState<DryRun | null>(null);
  const [error, setError] = useState<unknown>(null);
  // Reasons name channels by id; the merchant knows them by name.
  const named = (text: string) => channels.reduce((t, c) => t.replaceAll(c.id, c.name), text);
  const run = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      setResult(await api.post('/sync-rules/dry-run', { body: { channel_id: channel || channels[0]!.id, sku: sku.trim() } }));
    } catch (err) {
      setResult(null);
      setError(err);
    }
  };
  return (
    <section className="card" aria-label="Dry run">
      <h2>Dry run</h2>
      <p className="muted">What one SKU's listing on a channel is told, and which rules made it so.</p>
      {channels.length === 0 ? (
        <Empty>Connect a channel to try the rules on its listings.</Empty>
      ) : (
        <form className="filters dry-form" onSubmit={run}>
          <label>
            Channel
            <select name="dry_channel" value={channel} onChange={(e) => setChannel(e.target.value)}>
              {channels.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
          <label className="wide">
            SKU
            <input name="dry_sku" value={sku} onChange={(e) => setSku(e.target.value)} required />
          </label>
          <button type="submit">Run</button>
        </form>
      )}
      {error !== null && (
        <p className="form-error" role="alert">
          {errorText(error)}
        </p>
      )}
      {result && (
        <div className="dry-result" data-testid="dry-run-result">
          <p className="dry-summary">
            <strong>{result.sku}</strong> on <strong>{result.channel_name}</strong>: master sellable <span data-testid="dry-master">{result.master_qty}</span> →
            told <strong data-testid="dry-qty">{result.qty}</strong>
            {result.price_minor !== null && (
              <>
                {' '}
                · price {(result.price_minor / 100).toFixed(2)}
                {result.price_after_minor !== result.price_minor && <> → {((result.price_after_minor ?? 0) / 100).toFixed(2)}</>}
              </>
            )}
            {result.listing_id === null && <span className="muted"> (not listed on this channel yet)</span>}
          </p>
          {result.rules.length === 0 ? (
            <p className="muted">No rules yet: the channel gets its master sellable.</p>
          ) : (
            <ol className="plain dry-rules">
              {result.rules.map((r) => (
                <li key={r.rule_id} className={`dry-rule ${r.status}`} data-testid="dry-rule" data-status={r.status}>
                  <Badge value={r.status} label={r.status.replace('_', ' ')} /> <strong>{r.name}</strong>{' '}
                  <span className="muted">({actionText(r.action)})</span>
                  <div className="reason">{named(r.reason)}</div>
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </section>
  );
}

export default function SyncRules() {
  const qc = useQueryClient();
  const canWrite = useCan('write');
  const [editing, setEditing] = useState<Rule | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const rules = useQuery({ queryKey: ['sync-rules'], queryFn: () => api.get('/sync-rules', { query: { limit: 500 } }) });
  const channels = useQuery({ queryKey: ['channels'], queryFn: () => api.get('/channels') });
  const chans = (channels.data?.data ?? []).map((c) => ({ id: c.id, name: c.name }));
  const channelName = (id: string) => chans.find((c) => c.id === id)?.name ?? id;
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(errorText(err));
    }
    await qc.invalidateQueries({ queryKey: ['sync-rules'] });
  };
  return (
    <div className="sync-rules-page">
      <PageHeader title="Sync rules">
        {canWrite && editing === null && (
          <button className="primary" onClick={() => setEditing('new')}>
            New rule
          </button>
        )}
      </PageHeader>
      <p className="muted">
        Rules change what channels are told, on top of each channel's buffer, percent and cap. They run in priority order (lower first); for each action the
        first matching rule wins.
      </p>
      {editing !== null && (
        <RuleForm key={editing === 'new' ? 'new' : editing.id} rule={editing === 'new' ? null : editing} channels={chans} onDone={() => setEditing(null)} />
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {rules.isPending ? (
        <Loading what="Loading rules" />
      ) : rules.isError ? (
        <ErrorBox error={rules.error} retry={() => rules.refetch()} />
      ) : rules.data.data.length === 0 ? (
        <Empty>No rules yet: every channel gets its sellable quantity as its settings say.</Empty>
      ) : (
        <ol className="plain card rule-list" data-testid="rule-list">
          {rules.data.data.map((r) => (
            <li key={r.id} className="rule-row" data-testid="rule-row" data-rule-id={r.id}>
              <span className="prio" title="Priority">
                #{r.priority}
              </span>
              <span className="what">
                <strong>{r.name}</strong> {!r.enabled && <Badge value="paused" label="off" />}
                <small className="muted">
                  {actionText(r.action)} · {conditionText(r.conditions, channelName)}
                </small>
              </span>
              {canWrite && (
                <span className="manage">
                  <label className="row">
                    <input
                      type="checkbox"
                      aria-label={`Enable ${r.name}`}
                      checked={r.enabled}
                      onChange={(e) => void act(() => api.patch('/sync-rules/{id}', { path: { id: r.id }, body: { enabled: e.target.checked } }))}
                    />
                    On
                  </label>
                  <button onClick={() => setEditing(r)}>Edit</button>
                  <button
                    className="danger"
                    onClick={() => {
                      if (window.confirm(`Delete the rule “${r.name}”?`)) void act(() => api.delete('/sync-rules/{id}', { path: { id: r.id } }));
                    }}
                  >
                    Delete
                  </button>
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
      {channels.isSuccess && <DryRunPanel channels={chans} />}
    </div>
  );
}
