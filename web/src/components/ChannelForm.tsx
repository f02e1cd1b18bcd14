// Connect a channel (type, name, base URL, credentials) or replace an existing channel's
// credentials. Secrets are typed here and sent once; the API only ever says whether each is set.
// The types, their labels, credential fields and the settings a connection needs all come from
// GET /channel-types (the channel registry): this form knows no platform.
import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, errorText } from '../api.ts';
import { PlanLimitNotice, planLimitOf } from '../billing.tsx';
import { useChannelTypes } from '../channel-types.ts';
import { useLocations } from '../hooks.ts';
import { Loading, ErrorBox } from '../ui.tsx';
import { ConsentButton } from './ConsentButton.tsx';

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

const multiline = (f: { name: string; label: string }) => /pem|public_key/i.test(f.name + f.label);

export function ChannelForm({
  channel,
  onSaved,
}: {
  channel?: Channel;
  onSaved: (c: Channel, test: { ok: boolean; account?: string; error?: { message: string } }) => void;
}) {
  const types = useChannelTypes();
  const qc = useQueryClient();
  const [chosenType, setType] = useState(channel?.type ?? '');
  const [name, setName] = useState(channel?.name ?? '');
  const [baseUrl, setBaseUrl] = useState<string | null>(channel?.base_url ?? null);
  const [creds, setCreds] = useState<Record<string, string>>({});
  // Settings typed into the form; a field not typed in shows what the channel holds.
  const [settings, setSettings] = useState<Record<string, string>>({});
  const [account, setAccount] = useState('');
  const [error, setError] = useState<string | null>(null);
  // A connect refused because the plan's shops are all used: the limit and the way up, not an error.
  const [limit, setLimit] = useState<ReturnType<typeof planLimitOf>>(null);
  const [busy, setBusy] = useState(false);
  const locations = useLocations();
  const [location, setLocation] = useState('');
  if (types.isPending) return <Loading what="Loading channel types" />;
  if (types.isError) return <ErrorBox error={types.error} retry={() => types.refetch()} />;
  const def = types.data.data.find((t) => t.type === chosenType) ?? types.data.data[0]!;
  const type = def.type;
  const fields = def.credential_fields;
  const settingFields = def.setting_fields;
  const settingValue = (name: string) => settings[name] ?? (channel ? String(channel.settings[name] ?? '') : '');
  // The channel sells this location's stock and its sales are taken from there (the engine takes
  // no sale from a channel without one).
  const saleLocation = location || locations.data?.data[0]?.id;
  const platformSettings = Object.fromEntries(settingFields.map((f) => [f.name, settingValue(f.name)]).filter(([, v]) => v !== ''));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setLimit(null);
    try {
      const credentials = Object.fromEntries(Object.entries(creds).filter(([k, v]) => v !== '' && fields.some((f) => f.name === k)));
      let saved: Channel;
      if (channel) {
        const body: Record<string, unknown> = {};
        if (name && name !== channel.name) body.name = name;
        if (baseUrl && baseUrl !== channel.base_url) body.base_url = baseUrl;
        if (Object.keys(credentials).length) body.credentials = credentials;
        if (settingFields.some((f) => (platformSettings[f.name] ?? '') !== String(channel.settings[f.name] ?? ''))) body.settings = platformSettings;
        saved = Object.keys(body).length ? await api<Channel>('PATCH', `/channels/${channel.id}`, body) : channel;
      } else {
        const body: Record<string, unknown> = { type, name: name || def.label, credentials };
        body.settings = { ...platformSettings, ...(saleLocation ? { location_ids: [saleLocation] } : {}) };
        const url = baseUrl ?? def.default_base_url;
        if (url) body.base_url = url;
        saved = await api<Channel>('POST', '/channels', body);
      }
      setCreds({});
      // "Test connection": a real call to the platform with what was just saved.
      const test = await api<{ ok: boolean; account?: string; error?: { message: string } }>('POST', `/channels/${saved.id}/test`);
      void qc.invalidateQueries({ queryKey: ['channels'] });
      void qc.invalidateQueries({ queryKey: ['billing'] }); // one more shop used
      onSaved(saved, test);
    } catch (err) {
      const refused = planLimitOf(err);
      if (refused) setLimit(refused);
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card channel-form" onSubmit={submit} aria-label={channel ? 'Edit channel' : 'Connect a channel'}>
      {!channel && (
        <label>
          Platform
          <select name="type" value={type} onChange={(e) => (setType(e.target.value), setBaseUrl(null), setCreds({}), setSettings({}))}>
            {types.data.data.map((t) => (
              <option key={t.type} value={t.type}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Name
        <input name="name" placeholder={def.label} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      {!channel && def.oauth && (
        <div className="consent">
          {def.oauth_account && (
            <label>
              {def.oauth_account}
              <input name="oauth_account" value={account} onChange={(e) => setAccount(e.target.value)} />
            </label>
          )}
          <ConsentButton
            type={type}
            text={`Connect with ${def.label}`}
            body={{
              name: name || def.label,
              settings: { ...platformSettings, ...(saleLocation ? { location_ids: [saleLocation] } : {}) },
              ...(def.oauth_account ? { account } : {}),
            }}
          />
          <small>Sign in on {def.label} and agree; you come back here connected. Or paste the keys below.</small>
        </div>
      )}
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
      {!channel && (locations.data?.data.length ?? 0) > 1 && (
        <label>
          Sells stock from
          <select name="location" value={location || locations.data!.data[0]!.id} onChange={(e) => setLocation(e.target.value)}>
            {locations.data!.data.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </select>
        </label>
      )}
      {settingFields.map((f) => (
        <label key={f.name}>
          {f.label}
          <input name={`settings.${f.name}`} required value={settingValue(f.name)} onChange={(e) => setSettings({ ...settings, [f.name]: e.target.value })} />
        </label>
      ))}
      {channel && <small>Replacing credentials replaces all of them: fill every required field.</small>}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {limit && <PlanLimitNotice limit={limit} />}
      <button className="primary" type="submit" disabled={busy}>
        {busy ? 'Testing connection…' : channel ? 'Save and test connection' : 'Connect and test connection'}
      </button>
    </form>
  );
}
