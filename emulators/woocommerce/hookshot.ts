// WooCommerce's webhook deliveries ("Hookshot"), as core's WC_Webhook does them (public source,
// includes/class-wc-webhook.php; channel-apis.md section 5):
// - body: the topic's REST resource as JSON; headers X-WC-Webhook-Source/-Topic/-Resource/-Event/
//   -Signature/-ID/-Delivery-ID; User-Agent `WooCommerce/x Hookshot (WordPress/y)`.
// - X-WC-Webhook-Signature = base64(HMAC-SHA256(key = the webhook's secret, message = the body as sent)).
// - X-WC-Webhook-Delivery-ID = wp_hash(webhook id . time()): a hash of the id and the current
//   SECOND, so two deliveries of one webhook within a second carry the same delivery id.
// - One attempt per delivery: core does not retry. A 2xx, 301 or 302 answer resets the webhook's
//   failure_count; anything else (or no answer) goes through failed_delivery(): with failure_count
//   already above 5 (filter woocommerce_max_webhook_delivery_failures) the webhook becomes
//   `disabled` and delivers nothing more, else failure_count + 1. So the 7th consecutive failure
//   disables it, silently.
// - On creation an active webhook is pinged: an unsigned form post `webhook_id=N` that must be answered 200.
// The kit's fault knobs still apply: delay, duplicate (the same delivery twice) and reordering.
// GUESS: deliveries go out from Action Scheduler a moment after the change; the payload is built
// when the change happens (core builds it at delivery time, which only differs when the order
// changes again in between).
import { createHmac } from 'node:crypto';
import { Agent, request } from 'undici';
import { sleep, type Knobs } from '../kit/index.ts';
import { now, type WooAccount, type Webhook } from './store.ts';

const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
const USER_AGENT = 'WooCommerce/9.8.0 Hookshot (WordPress/6.8.1)';
/** woocommerce_max_webhook_delivery_failures default. */
export const MAX_DELIVERY_FAILURES = 5;
const WP_SALT = 'emulated-wp-salt';

export function wcSignature(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('base64');
}

/** wp_hash($id . strtotime('now')): an MD5 HMAC keyed by the site's salt. */
export function deliveryId(webhookId: number, atMs = Date.now()): string {
  return createHmac('md5', WP_SALT)
    .update(`${webhookId}${Math.floor(atMs / 1000)}`)
    .digest('hex');
}

export interface HookshotStats {
  webhooksSent: number;
  webhooksFailed: number;
}

export class Hookshot {
  private readonly pending = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly knobs: () => Knobs;
  private readonly stats: HookshotStats;
  private readonly changed: () => void;

  constructor(knobs: () => Knobs, stats: HookshotStats, changed: () => void) {
    this.knobs = knobs;
    this.stats = stats;
    this.changed = changed;
  }

  /** Delivers `payload` to every active webhook of the account subscribed to `topic`. */
  fire(acc: WooAccount, topic: string, payload: unknown): void {
    if (this.stopped) return;
    for (const w of acc.webhooks) {
      if (w.topic !== topic || w.status !== 'active') continue;
      const url = w.deliveryUrl ?? acc.webhookUrl;
      const secret = w.secret ?? acc.webhookSecret ?? '';
      if (!url) continue;
      const body = JSON.stringify(payload);
      const [resource, event] = topic.split('.');
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'x-wc-webhook-source': `${acc.siteUrl}/`,
        'x-wc-webhook-topic': topic,
        'x-wc-webhook-resource': resource ?? '',
        'x-wc-webhook-event': event ?? '',
        'x-wc-webhook-signature': wcSignature(secret, body),
        'x-wc-webhook-id': String(w.id),
        'x-wc-webhook-delivery-id': deliveryId(w.id),
      };
      const k = this.knobs();
      const copies = Math.random() < k.duplicateRate ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        const delay = k.webhookDelayMs + (Math.random() < k.reorderRate ? Math.random() * k.reorderDelayMs : 0);
        this.track(this.deliver(acc, w, url, headers, body, delay));
      }
    }
  }

  /** The ping core sends when a webhook is saved as active: unsigned, form-encoded. Answers whether it got a 200. */
  async ping(acc: WooAccount, w: Webhook): Promise<boolean> {
    const url = w.deliveryUrl ?? acc.webhookUrl;
    if (!url || this.stopped) return false;
    const p = (async () => {
      try {
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': USER_AGENT },
          body: `webhook_id=${w.id}`,
          dispatcher: agent,
          headersTimeout: 5000,
          bodyTimeout: 5000,
        });
        await res.body.dump();
        return res.statusCode === 200;
      } catch {
        return false;
      }
    })();
    this.track(p);
    return p;
  }

  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  stop(): void {
    this.stopped = true;
  }

  private track(p: Promise<unknown>): void {
    const q = p.finally(() => this.pending.delete(q));
    this.pending.add(q);
  }

  private async deliver(acc: WooAccount, w: Webhook, url: string, headers: Record<string, string>, body: string, delayMs: number): Promise<void> {
    if (delayMs > 0) await sleep(delayMs);
    if (this.stopped) return;
    let code = 0;
    try {
      const res = await request(url, { method: 'POST', headers, body, dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
      await res.body.dump();
      code = res.statusCode;
    } catch {
      // no answer: a WP_Error, counted as a failure (code stays 0)
    }
    if (code >= 200 && code < 303) {
      this.stats.webhooksSent++;
      w.failureCount = 0;
    } else {
      this.stats.webhooksFailed++;
      if (w.failureCount > MAX_DELIVERY_FAILURES) {
        w.status = 'disabled';
        w.modified = now(acc);
      } else w.failureCount++;
    }
    this.changed();
  }
}
