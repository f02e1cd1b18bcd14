// The operators' console tabs, above each console page.
import { Link, useLocation } from 'wouter';

const TABS = [
  ['/admin', 'Tenants'],
  ['/admin/sync', 'Sync monitor'],
  ['/admin/usage', 'Usage'],
  ['/admin/health', 'Health'],
  ['/admin/enquiries', 'Enquiries'],
] as const;

export function ConsoleNav() {
  const [loc] = useLocation();
  const current = (href: string) => (href === '/admin' ? loc === '/admin' || loc.startsWith('/admin/tenants') : loc.startsWith(href));
  return (
    <nav className="tabs" aria-label="Console">
      {TABS.map(([href, label]) => (
        <Link key={href} href={href} className={current(href) ? 'tab active' : 'tab'} aria-current={current(href) ? 'page' : undefined}>
          {label}
        </Link>
      ))}
    </nav>
  );
}

/** Seconds as a short duration: 45 s, 3 min, 2 h. */
export function duration(s: number | null | undefined): string {
  if (s === null || s === undefined) return '—';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export const bytes = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`);
export const percent = (r: number | null | undefined) => (r === null || r === undefined ? '—' : `${(r * 100).toFixed(r < 0.1 ? 1 : 0)}%`);
