// The life of a consent-connected marketplace's tokens (issue 13, point 6), for eBay and Etsy
// against their emulators over HTTP:
//  - an access token near its expiry is renewed BEFORE the next API call (the platform sees the
//    refresh_token grant, then calls carrying the new token, never a 401), and the renewed tokens
//    are stored sealed in the channel row (ChannelConnection.saveCredentials);
//  - a refresh the platform refuses (the seller revoked the grant) disconnects the channel and
//    raises the channel_auth alert; consenting again for that channel (channel_id) reconnects it,
//    closes the alert and pushes what piled up meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEbayEmulator } from '../../emulators/ebay/index.ts';
import { createEtsyEmulator } from '../../emulators/etsy/index.ts';
import type { Emulator, RecordedRequest } from '../../emulators/kit/index.ts';
import { ChannelRuntime } from '../../src/engine/channel-runtime.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { authAlerts, expectSealed, land, landedChannel, storedCredentials, waitForAuthAlert } from './oauth-support.ts';
import { client, type Call } from './support.ts';

const EBAY_APP = { client_id: 'StockCle-tok-PRD-3', client_secret: 'PRD-cert-3', ru_name: 'StockClerk-StockCle-tok-PR-qwert' };
const ETSY_APP = { keystring: 'stockclerk-token-key', shared_secret: 'token-shared-secret', user_id: '717171', shop_id: '828282' };

type AnyEmulator = Emulator<any>;

interface Platform {
  type: 'ebay' | 'etsy';
  emu: AnyEmulator;
  sku: string;
  /** Below the client's refresh margin (eBay 5 min, Etsy 2 min) and the platform's usual lifetime. */
  shortTtlSec: number;
  longTtlSec: number;
  setTtl(sec: number): Promise<void>;
  tokenPath: string;
  apiPrefix: string;
  /** Etsy hands out a new refresh token on every refresh (and revokes the used one); eBay keeps it. */
  rotates: boolean;
  consent(authorizeUrl: string): Promise<string>;
}

const ebay = createEbayEmulator();
const etsy = createEtsyEmulator();
let h: Harness;
let call: Call;
let tenantId: string;
let locationId: string;

async function control(emu: AnyEmulator, path: string, body: unknown): Promise<void> {
  const r = await fetch(`${emu.url}/_control${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status, await r.text()).toBe(200);
}

/** Submits the consent page's form (the only form on each emulator's page) as the seller's browser would. */
async function submitConsent(authorizeUrl: string, fields: string): Promise<string> {
  const page = await fetch(authorizeUrl);
  expect(page.status).toBe(200);
  const action = /<form method="post" action="([^"]+)"/
    .exec(await page.text())![1]!
    .replaceAll('&amp;', '&')
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));
  const answer = await fetch(new URL(action, authorizeUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields,
    redirect: 'manual',
  });
  expect(answer.status).toBe(302);
  return answer.headers.get('location')!;
}

const PLATFORMS: Platform[] = [
  {
    type: 'ebay',
    emu: ebay,
    sku: 'JUG-9',
    shortTtlSec: 200,
    longTtlSec: 7200,
    setTtl: (sec) => control(ebay, '/tokens', { access_ttl_sec: sec }),
    tokenPath: '/identity/v1/oauth2/token',
    apiPrefix: '/sell/',
    rotates: false,
    consent: (url) => submitConsent(url, 'username=tokenseller&decision=agree'),
  },
  {
    type: 'etsy',
    emu: etsy,
    sku: 'VASE-9',
    shortTtlSec: 60,
    longTtlSec: 3600,
    setTtl: (sec) => control(etsy, '/tokens', { ttl_sec: sec }),
    tokenPath: '/v3/public/oauth/token',
    apiPrefix: '/v3/application/',
    rotates: true,
    consent: (url) => submitConsent(url, `user_id=${ETSY_APP.user_id}&decision=allow`),
  },
];

beforeAll(async () => {
  await Promise.all([ebay.listen(0), etsy.listen(0)]);
  h = await startHarness({
    // One poll right after connecting, then none during the test: the pushes are what meet a revoked grant.
    tuning: { pollIntervalS: 3600 },
    config: {
      oauthApps: {
        ebay: { clientId: EBAY_APP.client_id, clientSecret: EBAY_APP.client_secret, redirectUri: EBAY_APP.ru_name, apiBase: ebay.url, authorizeBase: ebay.url },
        etsy: { clientId: ETSY_APP.keystring, clientSecret: ETSY_APP.shared_secret, redirectUri: null, apiBase: etsy.url, authorizeBase: etsy.url },
      },
    },
  });
  const cb = `${h.url}/oauth/callback/ebay`;
  ebay.addAccount({
    id: 'seller',
    credentials: { ...EBAY_APP, username: 'tokenseller', accept_url: cb, decline_url: cb },
    items: [{ sku: 'JUG-9', name: 'Jug', qty: 4 }],
  });
  etsy.addAccount({ id: 'shop', credentials: ETSY_APP, items: [{ sku: 'VASE-9', name: 'Vase', qty: 4 }] } as never);
  const t = await registerTenant(h.url, 'Token Traders');
  tenantId = t.tenantId;
  locationId = t.locationId;
  call = client(h.url, t.token);
});
afterAll(async () => {
  await h?.stop();
  await Promise.all([ebay.close(), etsy.close()]);
});

/** Start -> consent -> callback; the channel id it landed on. `channelId` reconnects that channel. */
async function connect(p: Platform, body: Record<string, unknown>): Promise<string> {
  const start = await call('POST', `/channels/oauth/${p.type}/start`, body);
  expect(start.status, JSON.stringify(start.body)).toBe(200);
  return landedChannel(await land(await p.consent(start.body.authorize_url)));
}

function record(emu: AnyEmulator): RecordedRequest[] {
  emu.requests.length = 0;
  emu.knobs = { ...emu.knobs, recordRequests: true };
  return emu.requests;
}

const grants = (seen: RecordedRequest[], p: Platform, grant: string) =>
  seen.filter((r) => r.url.startsWith(p.tokenPath) && (r.body as { grant_type?: string }).grant_type === grant);

const heldOnPlatform = (p: Platform): number | undefined => {
  const acc = [...p.emu.accounts.values()][0];
  return p.emu.spec.state(acc).find((s: { sku: string | null }) => s.sku === p.sku)?.qty ?? undefined;
};

describe.each(PLATFORMS)('$type tokens', (p) => {
  let channelId: string;

  it('an access token near expiry is renewed before the next call; the renewed pair is stored sealed', async () => {
    // The consent hands out a token that expires within the client's refresh margin.
    await p.setTtl(p.shortTtlSec);
    channelId = await connect(p, { name: `${p.type} by consent` });
    await p.setTtl(p.longTtlSec);
    const before = (await storedCredentials(h, tenantId, channelId)).opened;
    expect(Date.parse(before.access_expires_at!) - Date.now()).toBeLessThan(p.shortTtlSec * 1000 + 1000);

    // Everything the platform sees from now on (the first scheduled poll may make the call that renews).
    const seen = record(p.emu);
    expect((await call('POST', `/channels/${channelId}/test`)).body).toMatchObject({ ok: true });
    const after = await storedCredentials(h, tenantId, channelId);

    const refreshes = grants(seen, p, 'refresh_token');
    expect(refreshes, JSON.stringify(seen.map((r) => `${r.method} ${r.url} ${r.status}`))).toHaveLength(1);
    expect(refreshes[0]).toMatchObject({ method: 'POST', status: 200, body: { refresh_token: before.refresh_token } });
    const apiCalls = seen.filter((r) => r.url.startsWith(p.apiPrefix));
    expect(apiCalls.length).toBeGreaterThan(0);
    // Renewed first: no API call before the grant, none refused, every one with the new token.
    expect(seen.indexOf(apiCalls[0]!)).toBeGreaterThan(seen.indexOf(refreshes[0]!));
    expect(apiCalls.filter((r) => r.status === 401)).toEqual([]);
    expect(after.opened.access_token).not.toBe(before.access_token);
    for (const c of apiCalls) expect(c.authorization).toBe(`Bearer ${after.opened.access_token}`);
    // Stored through saveCredentials: the row holds the new pair and its new expiry, sealed.
    expect(Date.parse(after.opened.access_expires_at!)).toBeGreaterThan(Date.now() + (p.longTtlSec - 120) * 1000);
    if (p.rotates) expect(after.opened.refresh_token).not.toBe(before.refresh_token);
    else expect(after.opened.refresh_token).toBe(before.refresh_token);
    expectSealed(after, ['access_token', 'refresh_token']);

    // A fresh token is not renewed again.
    seen.length = 0;
    expect((await call('POST', `/channels/${channelId}/test`)).body).toMatchObject({ ok: true });
    expect(grants(seen, p, 'refresh_token')).toEqual([]);
  });

  it('a refused refresh disconnects the channel and raises channel_auth; consenting again reconnects it and pushes what piled up', async () => {
    const item = await call('POST', '/items', { sku: p.sku, name: p.sku });
    expect(item.status, JSON.stringify(item.body)).toBe(201);
    const adjust = (qty: number) => call('POST', '/adjustments', { item_id: item.body.id, location_id: locationId, qty_delta: qty, reason: 'receipt' });
    expect((await adjust(2)).status).toBe(201);
    expect((await call('POST', `/channels/${channelId}/import`)).body).toMatchObject({ matched: 1 });
    expect((await call('POST', `/channels/${channelId}/sync`)).status).toBe(202);
    await eventually(() => heldOnPlatform(p) === 2, 15_000, `${p.type} to hold 2`);

    // The seller revokes StockClerk's access on the platform: access and refresh tokens die.
    await control(p.emu, '/tokens', { revoke: true });
    const seen = record(p.emu);
    expect((await adjust(5)).status).toBe(201);
    await waitForAuthAlert(call, channelId);
    const refused = grants(seen, p, 'refresh_token');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.status >= 400)).toBe(true);
    const ch = await call('GET', `/channels/${channelId}`);
    expect(ch.body.status).toBe('disconnected');
    expect(ch.body.last_error).toMatch(/refused|renew/i);
    expect(heldOnPlatform(p)).toBe(2);
    expect((await call('POST', `/channels/${channelId}/sync`)).status).toBe(409);

    // Reconnect by consent: the same channel takes the new tokens; nothing new is created.
    const count = (await call('GET', '/channels')).body.data.length;
    expect(await connect(p, { channel_id: channelId })).toBe(channelId);
    expect((await call('GET', '/channels')).body.data.length).toBe(count);
    const back = await call('GET', `/channels/${channelId}`);
    expect([back.body.status, back.body.last_error, back.body.name]).toEqual(['connected', null, `${p.type} by consent`]);
    expect(await authAlerts(call, channelId)).toEqual([]);
    await eventually(() => heldOnPlatform(p) === 7, 15_000, `${p.type} to hold 7 after reconnecting`);
    expectSealed(await storedCredentials(h, tenantId, channelId), ['access_token', 'refresh_token']);
  });

  it('a poll for sales that meets a revoked grant raises channel_auth too (nothing to push needed)', async () => {
    // The channel's first poll (queued at connect, behind its pushes) only starts the cursor, and
    // stamps last_polled_at as it finishes: let it be done, or it would overwrite the reset below
    // and the next poll would be an hour away.
    await eventually(
      async () =>
        (
          await h.sc.ctx.db.query(
            `select 1 from channels c where c.id = $1 and c.poll_cursor is not null
               and not exists (select 1 from graphile_worker.jobs j where j.key = 'poll:' || c.id)`,
            [channelId],
          )
        ).rowCount === 1,
      15_000,
      'the first poll to have run',
    );
    await control(p.emu, '/tokens', { revoke: true });
    // Due for its safety-net poll now (the next scheduler tick polls it); the Guardian is not due.
    await h.sc.ctx.db.query(`update tenants set guardian_next_at = now() + interval '1 day' where id = $1`, [tenantId]);
    await h.sc.ctx.db.query(`update channels set last_polled_at = null where tenant_id = $1 and id = $2`, [tenantId, channelId]);
    await waitForAuthAlert(call, channelId);
    const ch = await call('GET', `/channels/${channelId}`);
    expect([ch.body.status, ch.body.last_error]).toEqual(['disconnected', expect.stringMatching(/refused|renew/i)]);
  });

  it("the Guardian's read-back meeting a revoked grant raises channel_auth too", async () => {
    expect(await connect(p, { channel_id: channelId })).toBe(channelId);
    expect(await authAlerts(call, channelId)).toEqual([]);
    await control(p.emu, '/tokens', { revoke: true });
    // The Guardian is due now; the poll is not.
    await h.sc.ctx.db.query(`update channels set last_polled_at = now() + interval '1 day' where tenant_id = $1 and id = $2`, [tenantId, channelId]);
    await h.sc.ctx.db.query(`update tenants set guardian_next_at = now() where id = $1`, [tenantId]);
    await waitForAuthAlert(call, channelId);
    expect((await call('GET', `/channels/${channelId}`)).body.status).toBe('disconnected');
    const { rows } = await h.sc.ctx.db.query(`select error from guardian_runs where tenant_id = $1 and channel_id = $2 order by id desc limit 1`, [
      tenantId,
      channelId,
    ]);
    expect(rows[0]?.error).toMatch(/refused|renew/i);
  });
});

describe('Etsy tokens held by two processes', () => {
  it('a process whose refresh token another process spent takes the stored pair instead of disconnecting', async () => {
    const p = PLATFORMS.find((x) => x.type === 'etsy')!;
    await p.setTtl(p.shortTtlSec);
    const id = await connect(p, { name: 'Etsy in two processes' });
    await p.setTtl(p.longTtlSec);
    // The API process and a worker each build an adapter from the same row, holding the same pair.
    const mine = (await h.sc.ctx.channels.load(tenantId, id))!;
    const other = (await new ChannelRuntime(h.sc.ctx.db, h.sc.ctx.sealer).load(tenantId, id))!;
    const seen = record(p.emu);
    await mine.adapter.testConnection();
    // Etsy rotated the refresh token: the other process's copy is spent. Its next call, also due
    // for renewal, takes the stored pair rather than failing (no second grant, no 401).
    expect((await other.adapter.testConnection()).ok).toBe(true);
    expect(grants(seen, p, 'refresh_token')).toHaveLength(1);
    expect(seen.filter((r) => r.status === 401 || r.status === 400)).toEqual([]);
    const stored = (await storedCredentials(h, tenantId, id)).opened;
    expect(seen.filter((r) => r.url.startsWith(p.apiPrefix)).every((r) => r.authorization === `Bearer ${stored.access_token}`)).toBe(true);
    expect((await call('GET', `/channels/${id}`)).body.status).toBe('connected');
    expect(await authAlerts(call, id)).toEqual([]);
    await other.adapter.close();
  });
});

describe('reconnecting by consent', () => {
  it('names an existing channel of the same platform', async () => {
    const eb = (await call('GET', '/channels')).body.data.find((c: { type: string }) => c.type === 'ebay');
    const wrong = await call('POST', '/channels/oauth/etsy/start', { channel_id: eb.id });
    expect([wrong.status, wrong.body.error.code]).toEqual([409, 'conflict']);
    expect((await call('POST', '/channels/oauth/etsy/start', { channel_id: 'ch_00000000000000000000000000000000' })).status).toBe(404);
    expect((await call('POST', '/channels/oauth/etsy/start', {})).body.error.code).toBe('validation_failed');
  });
});
