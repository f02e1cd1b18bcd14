// The seller's consent, on TikTok Shop's side: the authorize page (GET /oauth/authorize?app_key=
// &state=) shows the app and Authorize / Cancel; on Authorize the seller is sent to the app's
// registered redirect URL with `code` (an auth code for /api/v2/token/get) and `state`, plus
// app_key, locale and shop_region as TikTok adds them. The redirect URL is the one registered
// for the app (account credential `redirect_uri`), never one from the query.
// GUESS: the legacy authorize path /oauth/authorize?app_key= (newer apps use
// services.tiktokshop.com/open/authorize?service_id=); the page; the error `error=access_denied` on
// Cancel; a page (not a redirect) for an unknown app.
import type { FastifyInstance } from 'fastify';
import type { Emulator } from '../kit/index.ts';
import type { TiktokShopAccount } from './shop.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function installAuthorize(app: FastifyInstance, emu: Emulator<TiktokShopAccount>, issueCode: (acc: TiktokShopAccount) => string): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  const appOf = (appKey: string | undefined) => [...emu.accounts.values()].find((a) => a.credentials.app_key === appKey && a.credentials.redirect_uri);

  app.get('/oauth/authorize', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const acc = appOf(q.app_key);
    if (!acc) return reply.code(400).type('text/html').send('<!doctype html><p>This app is not registered or has no redirect URL.</p>');
    const action = `/oauth/authorize?${new URLSearchParams({ app_key: q.app_key ?? '', state: q.state ?? '' })}`;
    return reply
      .type('text/html')
      .send(
        `<!doctype html><title>Authorize</title><h1>Authorize this app to manage ${esc(acc.shopName)}</h1>` +
          `<form method="post" action="${esc(action)}"><button name="decision" value="allow">Authorize</button>` +
          `<button name="decision" value="deny">Cancel</button></form>`,
      );
  });

  app.post('/oauth/authorize', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const acc = appOf(q.app_key);
    if (!acc) return reply.code(400).type('text/html').send('<!doctype html><p>This app is not registered.</p>');
    const to = new URL(acc.credentials.redirect_uri!);
    if (q.state) to.searchParams.set('state', q.state);
    if ((req.body as { decision?: string } | undefined)?.decision !== 'allow') to.searchParams.set('error', 'access_denied');
    else {
      to.searchParams.set('app_key', q.app_key!);
      to.searchParams.set('code', issueCode(acc));
      to.searchParams.set('locale', 'en');
      to.searchParams.set('shop_region', acc.region);
    }
    return reply.redirect(to.toString(), 302);
  });
}
