// Response shapes of the /api/v1 routes, for the OpenAPI document (and, through it, the contract
// tests that check every response the suites receive). Request schemas live beside their routes.
import { z } from 'zod';
import { MOVEMENT_REASONS } from '../db/schema.ts';
import { ROLES } from '../domain/permissions.ts';
import { named } from './openapi.ts';

export const timestamp = z.iso.datetime({ offset: true });
const nullableTs = timestamp.nullable();
const int = z.number().int();
const id = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[0-9a-f]{32}$`));
const json = z.record(z.string(), z.unknown());

export const LevelView = named(z.strictObject({ item_id: z.string(), location_id: z.string(), on_hand: int, reserved: int, available: int }), 'LevelView');

export const Movement = named(
  z.strictObject({
    id: int.meta({ description: 'The ledger sequence (a number, increasing with time)' }),
    item_id: z.string(),
    location_id: z.string(),
    qty_delta: int,
    reason: z.enum(MOVEMENT_REASONS),
    source_channel_id: z.string().nullable(),
    source_event_id: z.string().nullable(),
    source_user_id: z.string().nullable().meta({ description: 'The user (usr_...) or API key (key_..., pkey_...) that wrote it' }),
    note: z.string().nullable(),
    created_at: timestamp,
  }),
  'Movement',
);

export const Item = named(
  z.strictObject({
    id: id('item'),
    sku: z.string(),
    name: z.string(),
    barcode: z.string().nullable(),
    low_stock_threshold: int,
    buffer: int.nullable(),
    version: int,
    created_at: timestamp,
    updated_at: timestamp,
    on_hand: int,
    reserved: int,
  }),
  'Item',
);

export const ItemDetail = named(
  Item.extend({
    levels: z.array(z.strictObject({ location_id: z.string(), location_name: z.string(), on_hand: int, reserved: int, updated_at: timestamp })),
    listings: z.array(
      z.strictObject({
        id: z.string(),
        channel_id: z.string(),
        channel_name: z.string(),
        channel_type: z.string(),
        external_id: z.string(),
        external_sku: z.string().nullable(),
        last_pushed_qty: int.nullable(),
        last_seen_qty: int.nullable(),
        last_synced_at: nullableTs,
        state: z.string(),
        last_error: z.string().nullable(),
      }),
    ),
    components: z
      .array(z.strictObject({ item_id: z.string(), sku: z.string(), name: z.string(), qty: int.meta({ description: 'Per kit' }), available: int }))
      .meta({ description: 'A kit\u2019s components (empty for a plain item)' }),
    kit_sellable: int
      .nullable()
      .meta({ description: 'Kits: min over components of floor(component sellable / qty per kit), over all locations; null for a plain item' }),
  }),
  'ItemDetail',
);

export const Location = named(
  z.strictObject({ id: id('loc'), name: z.string(), version: int, created_at: timestamp, items_stocked: int, on_hand: int }),
  'Location',
);

export const LevelRow = named(
  z.strictObject({
    item_id: z.string(),
    sku: z.string(),
    item_name: z.string(),
    location_id: z.string(),
    location_name: z.string(),
    on_hand: int,
    reserved: int,
    available: int,
    incoming: int.meta({ description: 'Ordered and not yet received on open purchase orders for this item and location' }),
    updated_at: timestamp,
    movements: z.array(Movement).optional().meta({ description: 'With include_movements: the latest movements, newest first' }),
  }),
  'LevelRow',
);

export const Channel = named(
  z.strictObject({
    id: id('ch'),
    type: z.string(),
    name: z.string(),
    base_url: z.string(),
    status: z.enum(['connected', 'paused', 'disconnected']),
    settings: json,
    last_sync_at: nullableTs,
    last_polled_at: nullableTs,
    last_error: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    credentials: z.record(z.string(), z.boolean()).meta({ description: 'Which credential fields are set (values are never returned)' }),
    listings: z.strictObject({ total: int, matched: int, unmatched: int }),
    extension: z
      .strictObject({ connected: z.boolean(), queued_jobs: int, failed_jobs: int, last_failure: z.string().nullable() })
      .nullable()
      .meta({ description: 'Extension channels: connected?, jobs waiting, jobs failed in the last day and the latest failure' }),
    webhook_url: z.string(),
  }),
  'Channel',
);

export const ChannelType = named(
  z.strictObject({
    type: z.string(),
    label: z.string(),
    default_base_url: z.string().nullable().meta({ description: 'null: every account has its own host, so base_url is required' }),
    credential_fields: z.array(z.strictObject({ name: z.string(), label: z.string(), secret: z.boolean(), required: z.boolean() })),
    setting_fields: z
      .array(z.strictObject({ name: z.string(), label: z.string() }))
      .meta({ description: 'Settings a connect form asks for beside the credentials' }),
    capabilities: json,
    oauth: z.boolean().meta({ description: 'Connected by consent on the platform: POST /channels/oauth/{type}/start' }),
    oauth_account: z
      .string()
      .nullable()
      .meta({ description: "What the consent start's `account` names on platforms with a host per account (e.g. a shop domain); null: not asked" }),
    settings_schema: json.meta({ description: 'JSON Schema of what `settings` may hold for this type, defaults included' }),
  }),
  'ChannelType',
);

export const Listing = named(
  z.strictObject({
    id: id('lst'),
    channel_id: z.string(),
    channel_type: z.string(),
    channel_name: z.string(),
    item_id: z.string().nullable(),
    item_sku: z.string().nullable(),
    item_name: z.string().nullable(),
    external_id: z.string(),
    external_location_id: z.string(),
    external_sku: z.string().nullable(),
    name: z.string().nullable(),
    last_pushed_qty: int.nullable(),
    last_seen_qty: int.nullable(),
    last_synced_at: nullableTs,
    state: z.string(),
    last_error: z.string().nullable(),
    push_pending: z.boolean(),
    created_at: timestamp,
  }),
  'Listing',
);

export const SyncEvent = named(
  z.strictObject({
    id: int,
    channel_id: z.string().nullable(),
    listing_id: z.string().nullable(),
    item_id: z.string().nullable(),
    kind: z.string(),
    outcome: z.string(),
    qty: int.nullable(),
    detail: json.nullable(),
    created_at: timestamp,
  }),
  'SyncEvent',
);

export const Alert = named(
  z.strictObject({
    id: id('alr'),
    type: z.string(),
    severity: z.string(),
    subject: z.string(),
    message: z.string(),
    data: json.nullable(),
    status: z.enum(['open', 'acknowledged', 'resolved']),
    created_at: timestamp,
    acknowledged_at: nullableTs,
    acknowledged_by: z.string().nullable(),
    resolved_at: nullableTs,
  }),
  'Alert',
);

export const Tenant = named(
  z.strictObject({
    id: z.string(),
    name: z.string(),
    plan: z.string(),
    guardian_interval_s: int,
    drift_threshold: int,
    guardian_next_at: timestamp,
    created_at: timestamp,
  }),
  'Tenant',
);

export const GuardianRun = named(
  z.strictObject({
    id: int,
    channel_id: z.string(),
    channel_name: z.string().nullable(),
    checked: int,
    in_sync: int,
    repaired: int,
    alerted: int,
    skipped: int,
    error: z.string().nullable(),
    started_at: timestamp,
    finished_at: nullableTs,
  }),
  'GuardianRun',
);

export const Queued = z.strictObject({ queued: z.literal(true) });

export const Invitation = named(
  z.strictObject({
    id: id('inv'),
    email: z.string(),
    role: z.enum(ROLES),
    status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
    invited_by: id('usr').nullable().meta({ description: 'The inviting user; null for an API key' }),
    created_at: timestamp,
    expires_at: timestamp,
    accepted_at: timestamp.nullable(),
  }),
  'Invitation',
);

export const User = named(
  z.strictObject({
    id: id('usr'),
    email: z.string(),
    role: z.enum(ROLES).meta({ description: 'owner, admin, editor or viewer (what each may do: the permission matrix in the README)' }),
    created_at: timestamp,
  }),
  'User',
);

export const ApiKey = named(
  z.strictObject({
    id: id('key'),
    name: z.string(),
    prefix: z.string().meta({ description: 'The first characters of the key' }),
    scopes: z.array(z.enum(['read', 'write', 'admin'])),
    created_by: z.string().nullable(),
    created_at: timestamp,
    last_used_at: nullableTs,
    revoked_at: nullableTs,
  }),
  'ApiKey',
);

export const ExtensionToken = named(
  z.strictObject({
    id: id('xtk'),
    channel_id: id('ch'),
    user_id: z.string().nullable().meta({ description: 'Who issued it' }),
    name: z.string(),
    prefix: z.string().meta({ description: 'The first characters of the token' }),
    created_at: timestamp,
    revoked_at: nullableTs,
    last_seen_at: nullableTs.meta({ description: "The extension's last heartbeat with this token" }),
    connected: z.boolean().meta({ description: 'An extension holds a socket with this token now' }),
    status: z
      .strictObject({ logged_in: z.boolean(), account: z.string().nullable() })
      .nullable()
      .meta({ description: 'The marketplace session as the extension last reported it' }),
  }),
  'ExtensionToken',
);

export const AuditEntry = named(
  z.strictObject({
    id: int,
    actor_type: z.enum(['user', 'api_key', 'platform_key', 'system']).meta({ description: 'system: StockClerk itself (a job, the CLI)' }),
    actor_id: z.string(),
    action: z.string(),
    resource_type: z.string(),
    resource_id: z.string(),
    changes: json.nullable(),
    request_id: z.string().nullable(),
    created_at: timestamp,
  }),
  'AuditEntry',
);
