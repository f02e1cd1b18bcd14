// Step by step: business and first location; connect channels (test connection, import listings,
// auto-match by SKU, match the rest by hand or create them as items); default buffer; done.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type ComponentProps, type FormEvent } from 'react';
import { useLocation } from 'wouter';
import { api, errorText, type Answer, type Schema } from '../api.ts';
import { ChannelForm } from '../components/ChannelForm.tsx';
import { UnmatchedListings } from '../components/UnmatchedListings.tsx';
import { Badge, ChannelLabel, ErrorBox, Loading, PageHeader } from '../ui.tsx';

const STEPS = ['Business', 'Channels', 'Buffer', 'Done'] as const;

// A connection test's outcome, as the connect form reports it after saving and as
// POST /channels/{id}/test answers it here.
type ConnectionTest = Parameters<ComponentProps<typeof ChannelForm>['onSaved']>[1];

export default function Onboarding() {
  const [step, setStep] = useState(0);
  return (
    <div className="onboarding">
      <PageHeader title="Set up StockClerk" />
      <ol className="steps">
        {STEPS.map((s, i) => (
          <li key={s} className={i === step ? 'current' : i < step ? 'done' : ''}>
            <button className="link" onClick={() => setStep(i)}>
              {i + 1}. {s}
            </button>
          </li>
        ))}
      </ol>
      {step === 0 && <BusinessStep next={() => setStep(1)} />}
      {step === 1 && <ChannelsStep next={() => setStep(2)} />}
      {step === 2 && <BufferStep next={() => setStep(3)} />}
      {step === 3 && <DoneStep />}
    </div>
  );
}

function BusinessStep({ next }: { next: () => void }) {
  const tenant = useQuery({ queryKey: ['tenant'], queryFn: () => api.get('/tenant') });
  const locations = useQuery({ queryKey: ['locations'], queryFn: () => api.get('/locations') });
  const [name, setName] = useState('');
  const [location, setLocation] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = locations.data?.data[0];
  useEffect(() => {
    if (tenant.data) setName((n) => n || tenant.data.name);
  }, [tenant.data]);
  useEffect(() => {
    if (first) setLocation((l) => l || first.name);
  }, [first]);
  if (tenant.isPending || locations.isPending) return <Loading />;
  if (tenant.isError || locations.isError) return <ErrorBox error={tenant.error ?? locations.error} />;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (name !== tenant.data.name) await api.patch('/tenant', { body: { name } });
      if (first && location !== first.name) {
        await api.get('/locations/{id}', { path: { id: first.id } }); // fresh ETag for If-Match
        await api.patch('/locations/{id}', { path: { id: first.id }, body: { name: location } });
      } else if (!first) await api.post('/locations', { body: { name: location } });
      next();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Business">
      <h2>Your business</h2>
      <label>
        Business name
        <input name="business_name" required value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        First location (shop, kitchen or warehouse)
        <input name="location_name" required value={location} onChange={(e) => setLocation(e.target.value)} />
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button className="primary" disabled={busy}>
        Save and continue
      </button>
    </form>
  );
}

type ImportResult = Answer<'/channels/{id}/import', 'post'>;

function ChannelsStep({ next }: { next: () => void }) {
  const channels = useQuery({ queryKey: ['channels'], queryFn: () => api.get('/channels', { query: { limit: 100 } }) });
  const [adding, setAdding] = useState(false);
  const [last, setLast] = useState<{ channelId: string; test: ConnectionTest } | null>(null);
  if (channels.isPending) return <Loading what="Loading channels" />;
  if (channels.isError) return <ErrorBox error={channels.error} retry={() => channels.refetch()} />;
  const list = channels.data.data;
  return (
    <div className="stack">
      <h2>Connect your sales channels</h2>
      {list.length === 0 && !adding && <p>Connect your till, web store and delivery apps. Start with the one whose stock counts you trust most.</p>}
      {list.map((c) => (
        <ChannelSetup key={c.id} channel={c} justTested={last?.channelId === c.id ? last.test : null} />
      ))}
      {adding || list.length === 0 ? (
        <ChannelForm
          onSaved={(channel, test) => {
            setLast({ channelId: channel.id, test });
            setAdding(false);
          }}
        />
      ) : (
        <button onClick={() => setAdding(true)}>+ Connect another channel</button>
      )}
      <div className="row">
        <button className="primary" onClick={next} disabled={list.length === 0}>
          Continue
        </button>
      </div>
    </div>
  );
}

function ChannelSetup({ channel, justTested }: { channel: Schema<'Channel'>; justTested: ConnectionTest | null }) {
  const qc = useQueryClient();
  const [test, setTest] = useState<ConnectionTest | null>(justTested);
  const [imported, setImported] = useState<ImportResult | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  useEffect(() => setTest(justTested), [justTested]);
  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(what);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };
  const doImport = () =>
    run('import', async () => {
      setImported(await api.post('/channels/{id}/import', { path: { id: channel.id } }));
      await qc.invalidateQueries({ queryKey: ['channels'] });
      await qc.invalidateQueries({ queryKey: ['listings'] });
    });
  return (
    <section className="card" data-testid={`setup-${channel.type}`} aria-label={`Channel ${channel.name}`}>
      <h3>
        {channel.name}{' '}
        <small>
          <ChannelLabel type={channel.type} />
        </small>{' '}
        <Badge value={channel.status} />
      </h3>
      {test &&
        (test.ok ? (
          <p className="ok-text">Connection works{test.account ? ` (account ${test.account})` : ''}.</p>
        ) : (
          <p className="form-error" role="alert">
            Connection failed: {test.error?.message}
          </p>
        ))}
      <p className="small">
        Webhook URL for the platform: <code>{channel.webhook_url}</code>
      </p>
      <div className="row">
        <button onClick={() => run('test', async () => setTest(await api.post('/channels/{id}/test', { path: { id: channel.id } })))} disabled={!!busy}>
          {busy === 'test' ? 'Testing…' : 'Test connection'}
        </button>
        <button onClick={doImport} disabled={!!busy}>
          {busy === 'import' ? 'Importing…' : 'Import listings'}
        </button>
        <button className="link" onClick={() => setEditing(!editing)}>
          {editing ? 'Cancel' : 'Fix credentials'}
        </button>
      </div>
      {editing && (
        <ChannelForm
          channel={channel}
          onSaved={(_c, t) => {
            setTest(t);
            setEditing(false);
          }}
        />
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {imported && (
        <p data-testid="import-result">
          Imported {imported.imported} listings: {imported.matched} matched by SKU, {imported.unmatched} unmatched.
        </p>
      )}
      {(imported || channel.listings.total > 0) && (
        <p className="small">
          {channel.listings.matched} of {channel.listings.total} listings matched to items.
        </p>
      )}
      {(imported?.unmatched ?? channel.listings.unmatched) > 0 && <UnmatchedListings channelId={channel.id} />}
    </section>
  );
}

function BufferStep({ next }: { next: () => void }) {
  const channels = useQuery({ queryKey: ['channels'], queryFn: () => api.get('/channels', { query: { limit: 100 } }) });
  const [buffer, setBuffer] = useState('0');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (channels.isPending) return <Loading />;
  if (channels.isError) return <ErrorBox error={channels.error} />;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const n = Number(buffer);
      for (const c of channels.data.data) await api.patch('/channels/{id}', { path: { id: c.id }, body: { settings: { default_buffer: n } } });
      next();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" onSubmit={submit} aria-label="Default buffer">
      <h2>Default buffer</h2>
      <p>Hold back a few units from every channel so a late sale cannot oversell. You can set a buffer per item later.</p>
      <label>
        Units held back per item
        <input name="default_buffer" type="number" min={0} max={1000000} value={buffer} onChange={(e) => setBuffer(e.target.value)} />
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button className="primary" disabled={busy}>
        Save and continue
      </button>
    </form>
  );
}

function DoneStep() {
  const [, navigate] = useLocation();
  return (
    <div className="card">
      <h2>All set</h2>
      <p>StockClerk now keeps every channel's stock in step with your ledger, within seconds.</p>
      <button className="primary" onClick={() => navigate('/')}>
        Go to the dashboard
      </button>
    </div>
  );
}
