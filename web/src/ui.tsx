// Small shared pieces: loading / empty / error states, badges, time formatting.
import type { ReactNode } from 'react';
import { errorText } from './api.ts';
import { useChannelLabel } from './channel-types.ts';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <div className="state loading" role="status">
      <span className="spinner" aria-hidden /> {what}…
    </div>
  );
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <strong>Something went wrong.</strong> {errorText(error)}
      {retry && (
        <button className="link" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state empty">{children}</div>;
}

const STATE_CLASS: Record<string, string> = {
  in_sync: 'ok',
  connected: 'ok',
  ok: 'ok',
  applied: 'ok',
  confirmed: 'ok',
  repaired: 'warn',
  idle: 'muted',
  active: 'info',
  pending: 'info',
  waiting: 'warn',
  paused: 'muted',
  acknowledged: 'muted',
  resolved: 'muted',
  open: 'warn',
  drift: 'warn',
  unmatched: 'muted',
  failed: 'bad',
  error: 'bad',
  disconnected: 'bad',
  critical: 'bad',
  warning: 'warn',
  live: 'ok',
  publishing: 'info',
  running: 'info',
  done: 'ok',
  draft: 'muted',
  delisted: 'muted',
};

export function Badge({ value, label }: { value: string; label?: string }) {
  return <span className={`badge ${STATE_CLASS[value] ?? 'muted'}`}>{label ?? value.replace(/_/g, ' ')}</span>;
}

export function timeAgo(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return new Date(iso).toLocaleDateString();
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** The platform's name for a channel type, from GET /channel-types. */
export function ChannelLabel({ type }: { type: string | null | undefined }) {
  return <>{useChannelLabel()(type)}</>;
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children && <div className="actions">{children}</div>}
    </header>
  );
}
