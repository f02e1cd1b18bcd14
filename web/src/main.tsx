import { QueryClient, QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { StrictMode, Suspense, lazy, useEffect, useState, useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';
import { Link, Redirect, Route, Switch, useLocation } from 'wouter';
import { api, ApiError, errorText, getToken, impersonating, logout as endSession, onAuthChange, stopImpersonating } from './api.ts';
import { BillingBanner } from './billing.tsx';
import { useCan, useMe } from './hooks.ts';
import { AcceptInvitation, ForgotPassword, ResetPassword, VerifyEmail } from './pages/Account.tsx';
import { InstallSignIn, Login, Signup } from './pages/Auth.tsx';
import { Connect } from './pages/Connect.tsx';
import { connectStream, streamStatus } from './stream.ts';
import { Loading } from './ui.tsx';
import './styles.css';

// Pages load on demand: the first paint carries only the shell, the router and the query client.
const Overview = lazy(() => import('./pages/Overview.tsx'));
const Items = lazy(() => import('./pages/Items.tsx'));
const ItemDetail = lazy(() => import('./pages/ItemDetail.tsx'));
const Products = lazy(() => import('./pages/Products.tsx'));
const ProductEditor = lazy(() => import('./pages/ProductEditor.tsx'));
const Channels = lazy(() => import('./pages/Channels.tsx'));
const SyncRules = lazy(() => import('./pages/SyncRules.tsx'));
const Conflicts = lazy(() => import('./pages/Conflicts.tsx'));
const ChannelDetail = lazy(() => import('./pages/ChannelDetail.tsx'));
const Alerts = lazy(() => import('./pages/Alerts.tsx'));
const SyncLog = lazy(() => import('./pages/SyncLog.tsx'));
const Onboarding = lazy(() => import('./pages/Onboarding.tsx'));
const Team = lazy(() => import('./pages/Team.tsx'));
const Settings = lazy(() => import('./pages/Settings.tsx'));
const ConsoleTenants = lazy(() => import('./pages/admin/Tenants.tsx'));
const ConsoleTenant = lazy(() => import('./pages/admin/TenantDetail.tsx'));
const ConsoleSync = lazy(() => import('./pages/admin/SyncMonitor.tsx'));
const ConsoleHealth = lazy(() => import('./pages/admin/Health.tsx'));
const ConsoleUsage = lazy(() => import('./pages/admin/Usage.tsx'));
const Landing = lazy(() => import('./pages/Landing.tsx'));
const AdminEnquiries = lazy(() => import('./pages/admin/Enquiries.tsx'));
const Usage = lazy(() => import('./pages/Usage.tsx'));
const Billing = lazy(() => import('./pages/Billing.tsx'));
const ResendVerification = lazy(() => import('./pages/Settings.tsx').then((m) => ({ default: m.ResendVerification })));

const qc = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      retry: (n, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && n < 2,
      refetchOnWindowFocus: false,
    },
  },
});

// Another user's session (an invitation accepted in a logged-in browser) must not see this one's cache.
onAuthChange(() => qc.clear());

/** Logged in or not (a quiet token refresh is the same session: no re-render). */
const loggedIn = () => getToken() !== null;
function useLoggedIn() {
  return useSyncExternalStore(onAuthChange, loggedIn);
}

const NAV = [
  ['/', 'Overview'],
  ['/items', 'Items'],
  ['/products', 'Products'],
  ['/channels', 'Channels'],
  ['/sync-rules', 'Sync rules'],
  ['/conflicts', 'Conflicts'],
  ['/alerts', 'Alerts'],
  ['/sync-log', 'Sync log'],
  ['/usage', 'Usage'],
] as const;

/** Until the address is confirmed, a line above every page says so (alert emails wait for it). */
function VerifyBanner() {
  const me = useMe();
  if (!me.data?.user || me.data.user.email_verified) return null;
  return (
    <p className="card callout" data-testid="verify-banner">
      Confirm {me.data.user.email} with the link we mailed you to get alert emails.{' '}
      <Suspense fallback={null}>
        <ResendVerification />
      </Suspense>
    </p>
  );
}

const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/**
 * Impersonation, seen from both sides: the operator's tab says whose dashboard it is and until
 * when, with a way out; the merchant's users see who is looking, why, until when, and admins can
 * end it at once.
 */
function ImpersonationBanner() {
  const me = useMe();
  const qc = useQueryClient();
  const admin = useCan('admin');
  const [error, setError] = useState<string | null>(null);
  const d = me.data;
  if (!d) return null;
  if (d.credential.type === 'operator') {
    const mine = d.impersonations.find(() => true) ?? null;
    return (
      <div className="card banner-imp" role="status" data-testid="impersonating-banner">
        <span>
          You are viewing <strong>{d.tenant.name}</strong> as its users see it
          {d.credential.scopes.includes('write') ? ' (stock and item changes allowed)' : ' (read-only)'}
          {mine && <> until {clock(mine.expires_at)}</>}.
        </span>
        <button className="primary" onClick={() => void stopImpersonating(mine?.id ?? null)}>
          Exit
        </button>
      </div>
    );
  }
  if (d.impersonations.length === 0) return null;
  const end = async (id: string) => {
    try {
      await api.delete('/impersonations/{id}', { path: { id } });
      await qc.invalidateQueries({ queryKey: ['me'] });
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <>
      {d.impersonations.map((i) => (
        <div key={i.id} className="card banner-imp" role="status" data-testid="impersonated-banner">
          <span>
            StockClerk support ({i.operator_email}) is viewing your account{i.read_only ? ', read-only,' : ''} until {clock(i.expires_at)}: “{i.reason}”
          </span>
          {admin && <button onClick={() => void end(i.id)}>End now</button>}
        </div>
      ))}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}

function Shell() {
  const [loc, navigate] = useLocation();
  const admin = useCan('admin');
  const operator = useCan('operator');
  const me = useMe();
  const live = useSyncExternalStore(streamStatus.subscribe, streamStatus.get);
  const [menu, setMenu] = useState(false);
  useEffect(() => connectStream(qc), []);
  useEffect(() => setMenu(false), [loc]);
  const logout = () => {
    if (impersonating()) return void stopImpersonating(me.data?.impersonations[0]?.id ?? null);
    void endSession();
    qc.clear();
    navigate('/login');
  };
  return (
    <div className="shell">
      <nav className={`nav ${menu ? 'open' : ''}`} aria-label="Main">
        <div className="brand">
          <Link href="/">StockClerk</Link>
          <span className={`live ${live}`} title={`Live updates: ${live}`} data-testid="live-status">
            {live === 'live' ? '● live' : live === 'connecting' ? '○ connecting' : '○ offline'}
          </span>
          <button className="menu-toggle" aria-label="Menu" aria-expanded={menu} onClick={() => setMenu(!menu)}>
            ☰
          </button>
        </div>
        <ul>
          {NAV.map(([href, label]) => (
            <li key={href}>
              <Link href={href} className={(href === '/' ? loc === '/' : loc.startsWith(href)) ? 'active' : ''}>
                {label}
              </Link>
            </li>
          ))}
          {admin && (
            <li>
              <Link href="/onboarding">Setup</Link>
            </li>
          )}
          {admin && (
            <li>
              <Link href="/team" className={loc.startsWith('/team') ? 'active' : ''}>
                Team
              </Link>
            </li>
          )}
          {/* Admins see the plan and its limits; only the owner can pay (the page says so). */}
          {admin && (
            <li>
              <Link href="/billing" className={loc.startsWith('/billing') ? 'active' : ''}>
                Billing
              </Link>
            </li>
          )}
          {operator && (
            <li>
              <Link href="/admin" className={loc.startsWith('/admin') ? 'active' : ''}>
                Console
              </Link>
            </li>
          )}
          <li>
            <Link href="/settings" className={loc.startsWith('/settings') ? 'active' : ''}>
              Settings
            </Link>
          </li>
          <li>
            <button className="link logout" onClick={logout}>
              Log out
            </button>
          </li>
        </ul>
      </nav>
      <main className="main">
        <ImpersonationBanner />
        <VerifyBanner />
        <BillingBanner />
        <Suspense fallback={<Loading />}>
          <Switch>
            <Route path="/" component={Overview} />
            <Route path="/items" component={Items} />
            <Route path="/items/:id">{(p) => <ItemDetail id={p.id} />}</Route>
            <Route path="/products" component={Products} />
            <Route path="/products/new">
              <ProductEditor id={null} />
            </Route>
            <Route path="/products/:id">{(p) => <ProductEditor id={p.id} />}</Route>
            <Route path="/channels" component={Channels} />
            <Route path="/channels/:id">{(p) => <ChannelDetail id={p.id} />}</Route>
            <Route path="/connect/:type">{(p) => <Connect type={p.type} />}</Route>
            <Route path="/sync-rules" component={SyncRules} />
            <Route path="/conflicts" component={Conflicts} />
            <Route path="/alerts" component={Alerts} />
            <Route path="/sync-log" component={SyncLog} />
            <Route path="/onboarding" component={Onboarding} />
            <Route path="/team" component={Team} />
            <Route path="/settings" component={Settings} />
            <Route path="/admin" component={ConsoleTenants} />
            <Route path="/admin/tenants/:id">{(p) => <ConsoleTenant id={p.id} />}</Route>
            <Route path="/admin/sync" component={ConsoleSync} />
            <Route path="/admin/health" component={ConsoleHealth} />
            <Route path="/admin/usage" component={ConsoleUsage} />
            <Route path="/admin/enquiries" component={AdminEnquiries} />
            <Route path="/usage" component={Usage} />
            <Route path="/billing" component={Billing} />
            <Route path="/verify-email" component={VerifyEmail} />
            <Route path="/reset-password" component={ResetPassword} />
            <Route path="/accept-invitation" component={AcceptInvitation} />
            <Route path="/login">
              <Redirect to="/" />
            </Route>
            <Route path="/signup">
              <Redirect to="/onboarding" />
            </Route>
            <Route>
              <p>
                Page not found. <Link href="/">Back to the overview</Link>
              </p>
            </Route>
          </Switch>
        </Suspense>
      </main>
    </div>
  );
}

function App() {
  if (!useLoggedIn()) {
    return (
      <Switch>
        <Route path="/">
          <Suspense fallback={<Loading />}>
            <Landing />
          </Suspense>
        </Route>
        <Route path="/signup" component={Signup} />
        <Route path="/forgot-password" component={ForgotPassword} />
        <Route path="/reset-password" component={ResetPassword} />
        <Route path="/accept-invitation" component={AcceptInvitation} />
        <Route path="/verify-email" component={VerifyEmail} />
        <Route path="/connect/:type">
          <InstallSignIn />
        </Route>
        <Route component={Login} />
      </Switch>
    );
  }
  return <Shell />;
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={qc}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
