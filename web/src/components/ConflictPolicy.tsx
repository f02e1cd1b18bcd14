// A marketplace channel's conflict_policy setting: what happens when the platform holds a title,
// description or price that differs from ours (ask = queue it on the Conflicts page). It is an
// ordinary channel setting (PATCH /channels/{id} merges settings), but the connect form only asks
// for a type's required settings, so it gets its own control here.
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, errorText, type Answer } from '../api.ts';

type Policy = 'ask' | 'use_master' | 'use_platform';
const LABEL: Record<Policy, string> = { ask: 'Ask me (queue on the Conflicts page)', use_master: 'Keep ours', use_platform: 'Take theirs' };

export function ConflictPolicy({ channel, canEdit }: { channel: Answer<'/channels/{id}'>; canEdit: boolean }) {
  const qc = useQueryClient();
  const current = (channel.settings.conflict_policy as Policy | undefined) ?? 'ask';
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const change = async (value: Policy) => {
    setMsg(null);
    try {
      await api.patch('/channels/{id}', { path: { id: channel.id }, body: { settings: { conflict_policy: value } } });
      await qc.invalidateQueries({ queryKey: ['channels'] });
      setMsg({ ok: true, text: 'Saved.' });
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    }
  };
  return (
    <section className="card" aria-label="Catalog conflicts">
      <label>
        When this channel&apos;s title, description or price differs from ours
        <select value={current} disabled={!canEdit} onChange={(e) => void change(e.target.value as Policy)} aria-label="Conflicts">
          {(Object.keys(LABEL) as Policy[]).map((p) => (
            <option key={p} value={p}>
              {LABEL[p]}
            </option>
          ))}
        </select>
      </label>
      {msg && (
        <p className={msg.ok ? 'ok-text' : 'form-error'} role={msg.ok ? 'status' : 'alert'}>
          {msg.text}
        </p>
      )}
    </section>
  );
}
