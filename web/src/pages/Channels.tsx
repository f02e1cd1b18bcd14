// Channels: every connected platform account with its state, and connecting a new one (by its
// keys, or by consent on the platform's page where the type allows it).
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useLocation } from 'wouter';
import { api } from '../api.ts';
import { ShopsUsed, useBilling } from '../billing.tsx';
import { ChannelForm } from '../components/ChannelForm.tsx';
import { ConsentError } from '../components/ConsentError.tsx';
import { Badge, ChannelLabel, Empty, ErrorBox, Loading, PageHeader, timeAgo } from '../ui.tsx';

export default function Channels() {
  const q = useQuery({ queryKey: ['channels'], queryFn: () => api.get('/channels', { query: { limit: 100 } }) });
  const [adding, setAdding] = useState(false);
  const [, navigate] = useLocation();
  const billing = useBilling();
  return (
    <div>
      <PageHeader title="Channels">
        {billing.data && (
          <span className="small">
            <ShopsUsed billing={billing.data} /> on your plan
          </span>
        )}
        <button className="primary" onClick={() => setAdding(!adding)}>
          {adding ? 'Cancel' : 'Add channel'}
        </button>
      </PageHeader>
      {/* Sent back here by a consent that did not connect (refused, expired, a code the platform took back). */}
      <ConsentError />
      {adding && <ChannelForm onSaved={(c) => navigate(`/channels/${c.id}`)} />}
      {q.isPending ? (
        <Loading what="Loading channels" />
      ) : q.isError ? (
        <ErrorBox error={q.error} retry={() => q.refetch()} />
      ) : q.data.data.length === 0 ? (
        <Empty>No channels yet. Add your till, web store or delivery app.</Empty>
      ) : (
        <div className="cards">
          {q.data.data.map((c) => (
            <Link key={c.id} href={`/channels/${c.id}`} className="card channel-card" data-testid="channel-card">
              <h3>
                {c.name} <Badge value={c.status} />
                {c.extension && !c.extension.connected && c.status === 'connected' && <Badge value="waiting" label="waiting for the extension" />}
              </h3>
              <p>
                <ChannelLabel type={c.type} />
              </p>
              <p className="small">
                {c.listings.matched}/{c.listings.total} listings matched · last sync {timeAgo(c.last_sync_at)}
              </p>
              {c.last_error && <p className="bad-text small">{c.last_error}</p>}
            </Link>
          ))}
        </div>
      )}
    </div>
  );
}
