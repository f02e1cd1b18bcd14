// Connect a channel (type, name, base URL, credentials) or replace an existing channel's
// credentials. Secrets are typed here and sent once; the API only ever says whether each is set.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, errorText } from '../api.ts';
import { CHANNEL_LABEL, Loading, ErrorBox } from '../ui.tsx';

export interface ChannelType {
  type: string;
  default_base_url: string | null;
  credential_fields: Array<{ name: string; label: string; secret: boolean; required: boolean }>;
}

export interface Channel {
  id: string;
  type: string;
  name: string;
  base_url: string;
  status: string;
  credentials: Record<string, boolean>;
  settings: Record<string, unknown>;
  last_sync_at: string | null;
  last_error: string | null;
  listings: { total: number; matched: number; unmatched: number };
  webhook_url: string;
}

export function useChannelTypes() {
  return useQuery({ queryKey: ['channel-types'], queryFn: () => api<{ data: ChannelType[] }>('GET', '/channel-types'), staleTime: Infinity });
}

const multiline = (f: { name: string; label: string }) => /pem|public_key/i.test(f.name + f.label);

export function ChannelForm({ channel, onSaved }: { channel?: Channel; onSaved: (c: Channel, test: { ok: boolean; account?: string; error?: { message: string } }) => void }) {
  const types = useChannelTypes();
  const qc = useQueryClient();
  const [type, setType] = useState(channel?.type ?? 'eposnow');
  const [name, setName] = useState(channel?.name ?? '');
  const [baseUrl, setBaseUrl] = useState<string | null>(channel?.base_url ?? null);
  const [creds, setCreds] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (types.isPending) return <Loading what="Loading channel types" />;
  if (types.isError) return <ErrorBox error={types.error} retry={() => types.refetch()} />;
  const def = types.data.data.find((t) => t.type === type)!;
  const fields = def.credential_fields;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const credentials = Object.fromEntries(Object.entries(creds).filter(([k, v]) => v !== '' && fields.some((f) => f.name === k)));
      let saved: Channel;
      if (channel) {
        const body: Record<string, unknown> = {};
        if (name && name !== channel.name) body.name = name;
        if (baseUrl && baseUrl !== channel.base_url) body.base_url = baseUrl;
        if (Object.keys(credentials).length) body.credentials = credentials;
        saved = Object.keys(body).length ? await api<Channel>('PATCH', `/channels/${channel.id}`, body) : channel;
      } else {
        const body: Record<string, unknown> = { type, name: name || CHANNEL_LABEL[type] || type, credentials };
        const url = baseUrl ?? def.default_base_url;
        if (url) body.base_url = url;
        saved = await api<Channel>('POST', '/channels', body);
      }
      setCreds({});
      // "Test connection": a real call to the platform with what was just saved.
      const test = await api<{ ok: boolean; account?: string; error?: { message: string } }>('POST', `/channels/${saved.id}/test`);
      void qc.invalidateQueries({ queryKey: ['channels'] });
      onSaved(saved, test);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card channel-form" onSubmit={submit} aria-label={channel ? 'Edit channel' : 'Connect a channel'}>
      {!channel && (
        <label>
          Platform
          <select name="type" value={type} onChange={(e) => (setType(e.target.value), setBaseUrl(null), setCreds({}))}>
            {types.data.data.map((t) => (
              <option key={t.type} value={t.type}>
                {CHANNEL_LABEL[t.type] ?? t.type}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Name
        <input name="name" placeholder={CHANNEL_LABEL[type]} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        API base URL
        <input name="base_url" value={baseUrl ?? def.default_base_url ?? ''} required={!def.default_base_url} onChange={(e) => setBaseUrl(e.target.value)} />
        <small>Leave as is for the platform's own API; an emulator's address for the demo.</small>
      </label>
      {fields.map((f) => {
        const isSet = channel?.credentials[f.name];
        const props = {
          name: f.name,
          value: creds[f.name] ?? '',
          required: !channel && f.required,
          placeholder: isSet ? 'saved (hidden); type to replace' : '',
          autoComplete: 'off',
          onChange: (e: { target: { value: string } }) => setCreds({ ...creds, [f.name]: e.target.value }),
        };
        return (
          <label key={f.name}>
            {f.label}
            {f.required ? '' : ' (optional)'} {channel && <span className="hint">{isSet ? '· set' : '· not set'}</span>}
            {multiline(f) ? <textarea rows={4} {...props} /> : <input type={f.secret ? 'password' : 'text'} {...props} />}
          </label>
        );
      })}
      {channel && <small>Replacing credentials replaces all of them: fill every required field.</small>}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button className="primary" type="submit" disabled={busy}>
        {busy ? 'Testing connection…' : channel ? 'Save and test connection' : 'Connect and test connection'}
      </button>
    </form>
  );
}
