// Inbound channel webhooks (platforms -> StockClerk; outbound ones are src/engine/outbound-webhooks.ts): POST /webhooks/:channelType/:channelId.
// Verify the platform's signature on the raw bytes (or, for platforms that sign nothing, the secret
// in the URL: /webhooks/:channelType/:channelId/:secret), record each event once, enqueue its
// application in the same transaction, answer 2xx fast. Bad signature -> 401 and nothing stored.
// A module whose webhooks are only hints (pollOnHint) has its channel's poll run soon instead.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WebhookParseError, type ChannelModule } from '../../channels/contract.ts';
import { channelModule } from '../../channels/registry.ts';
import { urlSecretMatches } from '../../channels/url-secret.ts';
import type { AppContext } from '../../engine/context.ts';
import { metrics } from '../../metrics.ts';
import { Intake } from '../../engine/intake.ts';
import { PollHints } from '../../engine/poll-hints.ts';
import { findWebhookChannel, markUninstalled } from '../../services/inbound-channels.ts';
import { ApiError } from '../errors.ts';

interface CachedChannel {
  tenantId: string;
  credentials: Record<string, string>;
  baseUrl: string;
  at: number;
}

/** Webhook bodies above this are refused (platform payloads are a few kB). */
export const WEBHOOK_BODY_LIMIT = 512 * 1024;
const CACHE_MS = 5_000;

export async function inboundWebhookRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Signatures are over the exact bytes sent: keep the raw body, whatever the content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));
  const cache = new Map<string, CachedChannel>();
  const intake = new Intake(ctx.db, () => ctx.jobs.nudgeRelay());
  // Hinted polls at most every 500 ms per channel: a sale right after another still reaches the
  // ledger well inside the 1 s propagation target (with 1 s it could wait a whole second for its
  // poll: test/e2e/quickstart.test.ts), and a steady stream of hints spends at most two polls a
  // second of the platform's budget, leaving the rest for our pushes.
  const hints = new PollHints(
    ctx.db,
    (dueInMs) => {
      ctx.jobs.nudgeRelay();
      if (dueInMs > 0) ctx.jobs.wakeWorkersIn(dueInMs); // a job added for later gets no notification when it falls due
    },
    { gapMs: 500 },
  );

  async function channel(type: string, id: string): Promise<CachedChannel | null> {
    const key = `${type}/${id}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit;
    const found = await findWebhookChannel(ctx.db, ctx.sealer, type, id);
    if (!found) return null;
    const c = { ...found, at: Date.now() };
    cache.set(key, c);
    if (cache.size > 10_000) cache.delete(cache.keys().next().value!);
    return c;
  }

  // Endpoint validation: some platforms GET the endpoint with a challenge before they send to it.
  // The answer is the channel module's; a module without one has nothing here (404).
  app.get<{ Params: { channelType: string; channelId: string }; Querystring: Record<string, string | undefined> }>(
    '/webhooks/:channelType/:channelId',
    async (req, reply) => {
      const { channelType, channelId } = req.params;
      const mod = channelModule(channelType);
      const ch = mod?.webhook.challenge && channelId.length <= 100 ? await channel(channelType, channelId) : null;
      if (!mod?.webhook.challenge || !ch) throw new ApiError(404, 'not_found', 'No such channel');
      // The endpoint as registered: this URL without the challenge's own query parameters.
      const url = new URL(req.url, `${req.protocol}://${req.host}`);
      for (const k of Object.keys(req.query)) if (k.startsWith('challenge')) url.searchParams.delete(k);
      const answer = mod.webhook.challenge(req.query, ch.credentials, url.toString());
      if (!answer) throw new ApiError(400, 'validation_failed', 'Not a challenge this channel answers');
      return reply.code(200).header('content-type', 'application/json').send(answer);
    },
  );

  // `/:secret`: platforms that sign nothing are given a URL carrying the channel's secret instead.
  const accept = async (req: FastifyRequest<{ Params: { channelType: string; channelId: string; secret?: string } }>, reply: FastifyReply) => {
    const started = performance.now();
    const { channelType, channelId, secret } = req.params;
    const mod: ChannelModule | null = channelModule(channelType);
    const observe = (outcome: string) =>
      metrics.webhookAccept.observe({ channel_type: mod ? channelType : 'unknown', outcome }, (performance.now() - started) / 1000);
    if (!mod || channelId.length > 100) {
      observe('unknown_channel');
      throw new ApiError(404, 'not_found', 'No such channel');
    }
    const ch = await channel(channelType, channelId);
    if (!ch) {
      observe('unknown_channel');
      throw new ApiError(404, 'not_found', 'No such channel');
    }
    // A module that does not take a URL secret has no such URL; one that does refuses any post without it.
    if (secret !== undefined && !mod.webhook.urlSecret) {
      observe('unknown_channel');
      throw new ApiError(404, 'not_found', 'No such channel');
    }
    if (mod.webhook.urlSecret && !urlSecretMatches(ch.credentials, secret)) {
      const reason = secret === undefined ? 'missing_signature' : 'bad_signature';
      observe(reason);
      req.log.warn({ tenant_id: ch.tenantId, channel_id: channelId, reason }, 'webhook refused: URL secret');
      throw new ApiError(
        401,
        'invalid_signature',
        `Webhook refused: ${secret === undefined ? 'this channel takes webhooks at its secret URL' : 'wrong URL secret'}`,
      );
    }
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const incoming = { headers: req.headers, rawBody, url: `${req.protocol}://${req.host}${req.url}` };
    const verdict = await mod.webhook.verify(incoming, ch.credentials, new Date(), { baseUrl: ch.baseUrl });
    if (!verdict.ok) {
      observe(verdict.reason);
      req.log.warn({ tenant_id: ch.tenantId, channel_id: channelId, reason: verdict.reason }, 'webhook refused');
      throw new ApiError(401, verdict.reason === 'stale_timestamp' ? 'stale_timestamp' : 'invalid_signature', `Webhook refused: ${verdict.reason}`);
    }
    if (mod.webhook.isUninstall?.(incoming)) {
      await markUninstalled(ctx.db, ch.tenantId, channelId, mod.label);
      observe('uninstalled');
      req.log.warn({ tenant_id: ch.tenantId, channel_id: channelId }, 'app uninstalled on the platform: channel disconnected');
      return reply.code(200).send({ received: 0, duplicates: 0 });
    }
    let events;
    try {
      events = mod.webhook.parse(incoming);
    } catch (err) {
      observe('malformed');
      if (err instanceof WebhookParseError) throw new ApiError(400, 'invalid_payload', err.message);
      throw err;
    }
    if (mod.webhook.pollOnHint) {
      // A hint: nothing from the body is recorded; the channel's poll runs soon and reads the API.
      await hints.hint(ch.tenantId, channelId);
      observe('hint');
      ctx.usage.count(ch.tenantId, 'webhooks');
      return reply.code(200).send({ received: 0, duplicates: 0 });
    }
    const r = await intake.record(ch.tenantId, channelId, events);
    observe(r.recorded > 0 ? 'accepted' : 'duplicate');
    // Duplicates too: the platform sent it and it was verified and recorded-checked (src/services/usage.ts).
    ctx.usage.count(ch.tenantId, 'webhooks');
    return reply.code(200).send({ received: r.recorded, duplicates: r.duplicates });
  };
  app.post('/webhooks/:channelType/:channelId', accept);
  app.post('/webhooks/:channelType/:channelId/:secret', accept);
}
