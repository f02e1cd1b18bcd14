// Shared by the consent suites (oauth-connect, oauth-ebay, oauth-tokens): following StockClerk's
// callback redirect, reading a channel's stored credentials the way the engine does (sealed in
// channels.credentials_enc), and waiting for the channel-auth alert.
import { expect } from 'vitest';
import { eventually, type Harness } from '../helpers/stockclerk.ts';
import type { Call } from './support.ts';

/** The merchant's browser arriving at /oauth/callback: StockClerk always answers with a 303 to the dashboard. */
export async function land(callbackUrl: string): Promise<URL> {
  const r = await fetch(callbackUrl, { redirect: 'manual' });
  expect(r.status).toBe(303);
  return new URL(r.headers.get('location')!);
}

/** The channel id a successful landing names (/channels/ch_...?connected=1). */
export function landedChannel(landed: URL): string {
  expect(landed.searchParams.get('connected'), landed.toString()).toBe('1');
  expect(landed.pathname).toMatch(/^\/channels\/ch_[0-9a-f]+$/);
  return landed.pathname.split('/').pop()!;
}

/** The stored column and what it opens to with StockClerk's sealer. */
export async function storedCredentials(h: Harness, tenantId: string, channelId: string): Promise<{ raw: string; opened: Record<string, string> }> {
  const { rows } = await h.sc.ctx.db.query(`select credentials_enc from channels where tenant_id = $1 and id = $2`, [tenantId, channelId]);
  const raw = rows[0].credentials_enc as string;
  return { raw, opened: h.sc.ctx.sealer.open<Record<string, string>>(raw) };
}

/** The stored secrets are sealed: none of their values appears in the column as written. */
export function expectSealed(s: { raw: string; opened: Record<string, string> }, keys: string[]): void {
  for (const k of keys) {
    expect(s.opened[k], k).toBeTruthy();
    expect(s.raw).not.toContain(s.opened[k]);
  }
}

/** Open channel_auth alerts naming this channel, as the API lists them. */
export async function authAlerts(call: Call, channelId: string): Promise<Array<{ id: string; type: string; status: string }>> {
  const r = await call('GET', '/alerts?status=open&limit=100');
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data.filter((a: { type: string; subject: string }) => a.type === 'channel_auth' && a.subject === channelId);
}

export async function waitForAuthAlert(call: Call, channelId: string): Promise<void> {
  await eventually(async () => (await authAlerts(call, channelId)).length === 1, 15_000, 'the channel_auth alert');
}
