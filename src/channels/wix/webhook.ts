// Wix webhooks: the whole body is a JWT signed RS256 with the app's private key; we verify it with
// the app's public key (credential `public_key`, PEM). Payload nesting (channel-apis.md section 2):
// JWT{data: json{eventType, instanceId, data: json(event), identity}}; event = {id, entityFqdn, slug, ...}.
import { verify as rsaVerify } from 'node:crypto';
import { WebhookParseError, type InboundEvent, type IncomingWebhook, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { toListing, WIX_STORES_APP_ID, type WixInventoryItem } from './adapter.ts';
import { decodeSegment, publicKeyFrom, splitJwt } from './jwt.ts';
import { parsePlatformJson } from '../json.ts';

const MAX_CLOCK_SKEW_S = 300;

interface WixEvent {
  id?: string;
  entityFqdn?: string;
  slug?: string;
  entityId?: string;
  eventTime?: string;
  createdEvent?: { entityAsJson?: string };
  updatedEvent?: { currentEntityAsJson?: string };
  actionEvent?: { bodyAsJson?: string };
}

interface WixOrder {
  id?: string;
  createdDate?: string;
  lineItems?: Array<{
    quantity?: number;
    catalogReference?: { catalogItemId?: string; appId?: string; options?: { variantId?: string } };
    physicalProperties?: { sku?: string | null };
  }>;
}

function verify(req: IncomingWebhook, credentials: Record<string, string>, now: Date): VerifyResult {
  const jwt = splitJwt(req.rawBody.toString('utf8'));
  // Not a compact JWT, or one without a signature (alg "none" style): nothing signed to check.
  if (!jwt || !jwt.signature) return { ok: false, reason: 'missing_signature' };
  const pem = credentials.public_key;
  if (!pem) return { ok: false, reason: 'bad_signature' };
  let payload: { iat?: unknown; exp?: unknown; data?: unknown };
  try {
    const header = decodeSegment(jwt.header) as { alg?: unknown };
    // Only RS256: accepting the header's choice would let "none" or HS256-with-the-public-key through.
    if (header?.alg !== 'RS256') return { ok: false, reason: 'bad_signature' };
    const good = rsaVerify('RSA-SHA256', Buffer.from(`${jwt.header}.${jwt.payload}`), publicKeyFrom(pem), Buffer.from(jwt.signature, 'base64url'));
    if (!good) return { ok: false, reason: 'bad_signature' };
    payload = decodeSegment(jwt.payload) as typeof payload;
  } catch {
    return { ok: false, reason: 'bad_signature' }; // unreadable header/payload or an unusable key
  }
  const nowS = now.getTime() / 1000;
  if (typeof payload?.iat !== 'number' || payload.iat > nowS + MAX_CLOCK_SKEW_S) return { ok: false, reason: 'stale_timestamp' };
  if (typeof payload.exp === 'number' && payload.exp < nowS) return { ok: false, reason: 'stale_timestamp' };
  // Every site that installed the app gets webhooks signed with the same app key: a channel that
  // knows its app instance (installed from Wix) takes only that instance's, so a genuine event of
  // another site (an App Removed above all) replayed at this channel's URL is refused.
  const instance = credentials.instance_id;
  if (instance && instanceOf(payload) !== instance) return { ok: false, reason: 'bad_signature' };
  return { ok: true };
}

/** The envelope's instanceId (JWT payload.data is the envelope as a JSON string); null when unreadable. */
function instanceOf(payload: { data?: unknown }): string | null {
  if (typeof payload.data !== 'string') return null;
  try {
    const id = (JSON.parse(payload.data) as { instanceId?: unknown })?.instanceId;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

function parseJson<T>(text: unknown, what: string): T {
  if (typeof text !== 'string') throw new WebhookParseError(`${what} is not a JSON string`);
  try {
    const v = parsePlatformJson(text) as unknown;
    if (!v || typeof v !== 'object') throw new Error('not an object');
    return v as T;
  } catch (err) {
    throw new WebhookParseError(`${what}: ${(err as Error).message}`);
  }
}

function parse(req: IncomingWebhook): InboundEvent[] {
  const jwt = splitJwt(req.rawBody.toString('utf8'));
  if (!jwt) throw new WebhookParseError('body is not a JWT');
  let payload: { data?: unknown };
  try {
    payload = decodeSegment(jwt.payload) as typeof payload;
  } catch {
    throw new WebhookParseError('JWT payload is not JSON');
  }
  const envelope = parseJson<{ eventType?: string; data?: unknown }>(payload?.data, 'JWT data');
  const event = parseJson<WixEvent>(envelope.data, 'event data');
  if (typeof event.id !== 'string' || !event.id) throw new WebhookParseError('event has no id');
  const type = envelope.eventType ?? '';
  const base = { externalEventId: event.id, occurredAt: event.eventTime ?? new Date().toISOString() };

  if (type.startsWith('wix.stores.catalog.v3.inventory_item_')) {
    // GUESS: `updated_with_reason` is an action event whose body carries {inventoryItem}; plain
    // created/updated carry the entity like every standardised event.
    const json = event.updatedEvent?.currentEntityAsJson ?? event.createdEvent?.entityAsJson;
    const item = json
      ? parseJson<WixInventoryItem>(json, 'inventory item')
      : event.actionEvent?.bodyAsJson
        ? parseJson<{ inventoryItem?: WixInventoryItem }>(event.actionEvent.bodyAsJson, 'action body').inventoryItem
        : undefined;
    if (!item?.id) return [{ kind: 'ignored', ...base, reason: `${type} without an inventory item` }];
    return [{ kind: 'level', ...base, level: toListing(item) }];
  }

  if (type === 'wix.ecom.v1.order_created' || type === 'wix.ecom.v1.order_canceled') {
    // GUESS: order_canceled's shape is not documented to us; accept the order as an entity or as an action body {order}.
    const json = event.createdEvent?.entityAsJson ?? event.updatedEvent?.currentEntityAsJson;
    const order = json
      ? parseJson<WixOrder>(json, 'order')
      : event.actionEvent?.bodyAsJson
        ? parseJson<{ order?: WixOrder }>(event.actionEvent.bodyAsJson, 'action body').order
        : undefined;
    if (!order?.id || !Array.isArray(order.lineItems)) throw new WebhookParseError(`${type} without an order`);
    const lines = order.lineItems
      // Only Wix Stores products hold stock; bookings, gift cards etc. come from other apps.
      .filter((l) => !l.catalogReference?.appId || l.catalogReference.appId === WIX_STORES_APP_ID)
      .filter((l) => typeof l.quantity === 'number' && l.quantity > 0)
      // The line names the variant, not the inventory item, so matching is by sku.
      // GUESS: the eCom line item carries the sku in physicalProperties.sku.
      .map((l) => ({ externalId: null, sku: l.physicalProperties?.sku || null, qty: l.quantity as number }));
    return [
      {
        kind: 'order',
        ...base,
        effect: type === 'wix.ecom.v1.order_created' ? 'sale' : 'cancel',
        orderId: order.id,
        lines,
        // Wix checkout always deducts from the default location; the order does not name it.
        externalLocationId: null,
      },
    ];
  }

  return [{ kind: 'ignored', ...base, reason: `event type ${type || '(none)'} not used` }];
}

/**
 * Wix's "App Instance Removed" webhook (dev.wix.com app-management, app-instance): the site owner
 * removed the app. A legacy (non-standardised) webhook: the envelope's eventType is "AppRemoved"
 * (GUESS: the string is from public code, not read on a Wix page), its data {appId}.
 */
function isUninstall(req: IncomingWebhook): boolean {
  const jwt = splitJwt(req.rawBody.toString('utf8'));
  if (!jwt) return false;
  try {
    const payload = decodeSegment(jwt.payload) as { data?: unknown };
    if (typeof payload?.data !== 'string') return false;
    const envelope = JSON.parse(payload.data) as { eventType?: unknown };
    return envelope?.eventType === 'AppRemoved';
  } catch {
    return false;
  }
}

export const wixWebhook: WebhookHandler = { verify, parse, isUninstall };
