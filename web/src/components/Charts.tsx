// Hand-written SVG charts: no chart library in the bundle for two simple pictures.
import type { Answer, Schema } from '../api.ts';

export function ActivityChart({ data }: { data: Answer<'/overview/activity'>['data'] }) {
  const w = 600;
  const h = 160;
  const pad = 24;
  const maxSales = Math.max(1, ...data.map((d) => d.sales));
  const maxSyncs = Math.max(1, ...data.map((d) => d.syncs));
  const bw = (w - pad * 2) / Math.max(1, data.length);
  const line = data
    .map((d, i) => `${i ? 'L' : 'M'}${(pad + i * bw + bw / 2).toFixed(1)},${(h - pad - (d.syncs / maxSyncs) * (h - pad * 2)).toFixed(1)}`)
    .join(' ');
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label="Sales and syncs over the last 24 hours" preserveAspectRatio="none">
        <line x1={pad} y1={h - pad} x2={w - pad} y2={h - pad} className="axis" />
        {data.map((d, i) => {
          const bh = (d.sales / maxSales) * (h - pad * 2);
          return (
            <rect key={d.hour} x={pad + i * bw + 2} y={h - pad - bh} width={Math.max(1, bw - 4)} height={bh} className="bar">
              <title>{`${new Date(d.hour).getHours()}:00 — ${d.sales} sold, ${d.syncs} syncs`}</title>
            </rect>
          );
        })}
        <path d={line} className="line" fill="none" />
        {data.map((d, i) =>
          i % 6 === 0 ? (
            <text key={d.hour} x={pad + i * bw} y={h - 6} className="tick">
              {new Date(d.hour).getHours()}:00
            </text>
          ) : null,
        )}
      </svg>
      <figcaption>
        <span className="key bar" /> units sold (max {maxSales}/h) <span className="key line" /> syncs (max {maxSyncs}/h)
      </figcaption>
    </figure>
  );
}

const REASON_COLOR: Record<string, string> = {
  sale: '#d9480f',
  receipt: '#2b8a3e',
  return: '#1971c2',
  adjustment: '#7048e8',
  count: '#e67700',
  transfer_in: '#0c8599',
  transfer_out: '#862e9c',
};

/** On hand over time, rebuilt backwards from the current level through the movements (newest first). */
export function StockHistoryChart({
  onHand,
  movements,
}: {
  onHand: number;
  movements: Array<Pick<Schema<'Movement'>, 'id' | 'qty_delta' | 'reason' | 'created_at'>>;
}) {
  const w = 600;
  const h = 180;
  const pad = 28;
  if (movements.length === 0) return <p className="state empty">No stock history yet.</p>;
  const points: Array<{ t: number; level: number; reason: string; delta: number }> = [];
  let level = onHand;
  for (const m of movements) {
    points.push({ t: new Date(m.created_at).getTime(), level, reason: m.reason, delta: m.qty_delta });
    level -= m.qty_delta;
  }
  points.reverse();
  const t0 = points[0]!.t;
  const t1 = Math.max(Date.now(), t0 + 1);
  const lo = Math.min(0, ...points.map((p) => p.level));
  const hi = Math.max(1, ...points.map((p) => p.level));
  const x = (t: number) => pad + ((t - t0) / (t1 - t0)) * (w - pad * 2);
  const y = (v: number) => h - pad - ((v - lo) / (hi - lo)) * (h - pad * 2);
  let d = `M${x(t0)},${y(level)}`;
  for (const p of points) d += ` H${x(p.t).toFixed(1)} V${y(p.level).toFixed(1)}`;
  d += ` H${x(t1)}`;
  const reasons = [...new Set(points.map((p) => p.reason))];
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label="Stock on hand over time" preserveAspectRatio="none">
        <line x1={pad} y1={y(0)} x2={w - pad} y2={y(0)} className="axis" />
        <path d={d} className="line" fill="none" />
        {points.map((p, i) => (
          <circle key={i} cx={x(p.t)} cy={y(p.level)} r={3.5} fill={REASON_COLOR[p.reason] ?? '#555'}>
            <title>{`${new Date(p.t).toLocaleString()}: ${p.reason} ${p.delta > 0 ? '+' : ''}${p.delta} → ${p.level}`}</title>
          </circle>
        ))}
        <text x={4} y={y(hi) + 4} className="tick">
          {hi}
        </text>
        <text x={4} y={y(lo) + 4} className="tick">
          {lo}
        </text>
      </svg>
      <figcaption>
        {reasons.map((r) => (
          <span key={r} className="legend">
            <span className="dot" style={{ background: REASON_COLOR[r] ?? '#555' }} /> {r.replace('_', ' ')}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** One bar per day of a month (usage; days to come are zero); ticks on the 1st, 8th, 15th, 22nd, 29th. */
export function DailyChart({ days, label, unit }: { days: Array<{ day: string; value: number }>; label: string; unit: string }) {
  const w = 600;
  const h = 160;
  const pad = 24;
  const max = Math.max(1, ...days.map((d) => d.value));
  const bw = (w - pad * 2) / Math.max(1, days.length);
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label} preserveAspectRatio="none">
        <line x1={pad} y1={h - pad} x2={w - pad} y2={h - pad} className="axis" />
        {days.map((d, i) => {
          const bh = (d.value / max) * (h - pad * 2);
          return (
            <rect key={d.day} x={pad + i * bw + 2} y={h - pad - bh} width={Math.max(1, bw - 4)} height={bh} className="bar" data-testid="usage-bar">
              <title>{`${d.day}: ${d.value.toLocaleString()} ${unit}`}</title>
            </rect>
          );
        })}
        {days.map((d, i) =>
          i % 7 === 0 ? (
            <text key={d.day} x={pad + i * bw} y={h - 6} className="tick">
              {Number(d.day.slice(8))}
            </text>
          ) : null,
        )}
      </svg>
      <figcaption>
        <span className="key bar" /> {unit} per day (UTC; max {max.toLocaleString()})
      </figcaption>
    </figure>
  );
}
