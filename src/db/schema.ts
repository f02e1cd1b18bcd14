// The database schema (drizzle-kit generates the SQL migrations in ./drizzle from this file).
// Every tenant-owned table carries tenant_id first in its primary key and in every foreign key,
// so a row can only ever reference rows of its own tenant, and tenants can be sharded by it.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  date,
  foreignKey,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const created = () => ts('created_at').notNull().defaultNow();

export const tenants = pgTable(
  'tenants',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** Guardian cadence and the drift it repairs silently; larger drift raises an alert. */
    guardianIntervalS: integer('guardian_interval_s').notNull().default(900),
    driftThreshold: integer('drift_threshold').notNull().default(5),
    guardianNextAt: ts('guardian_next_at').notNull().defaultNow(),
    /** trial | starter | growth | enterprise (src/domain/plans.ts): shops, API rate limits, the Guardian's shortest interval. */
    plan: text('plan').notNull().default('trial'),
    /** trialing | active | past_due | canceled: the subscription's standing, from Stripe (src/services/billing.ts). */
    billingStatus: text('billing_status').notNull().default('trialing'),
    trialEndsAt: ts('trial_ends_at')
      .notNull()
      .default(sql`now() + interval '14 days'`),
    /** When a paid plan stopped being paid (a failed renewal, a cancellation); the grace period runs from here. */
    lapsedAt: ts('lapsed_at'),
    /** Enterprise: the shops an operator allows (null: the plan's own limit). */
    shopLimit: integer('shop_limit'),
    stripeCustomerId: text('stripe_customer_id'),
    stripeSubscriptionId: text('stripe_subscription_id'),
    /** An operator's kill switch: while set, none of the tenant's jobs is taken (src/engine/worker.ts). */
    syncPausedAt: ts('sync_paused_at'),
    syncPausedReason: text('sync_paused_reason'),
    /** Bumped by every change of the tenant's sync rules: the engine's rules cache keys on it (src/engine/sync-rules-cache.ts). */
    syncRulesVersion: bigint('sync_rules_version', { mode: 'number' }).notNull().default(0),
    createdAt: created(),
  },
  (t) => [uniqueIndex('tenants_stripe_customer_key').on(t.stripeCustomerId)],
);

/** Stripe events applied, by id: a redelivered event is recognised and changes nothing. */
export const stripeEvents = pgTable('stripe_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  tenantId: text('tenant_id'),
  receivedAt: ts('received_at').notNull().defaultNow(),
});

export const users = pgTable(
  'users',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role').notNull().default('owner'),
    /** An operator of the StockClerk service (`stockclerk admin create`): the `operator` permission, across tenants. */
    isSuperAdmin: boolean('is_super_admin').notNull().default(false),
    /** When the user proved they read this inbox (a verification link, a reset, an invitation). */
    emailVerifiedAt: ts('email_verified_at'),
    /** Alert emails: `each` alert as it is raised, a daily `digest`, or `off` (src/services/alert-email.ts). */
    alertEmail: text('alert_email').notNull().default('each'),
    /** The newest alert a digest has covered, so the next digest starts after it. */
    digestSentAt: ts('digest_sent_at'),
    createdAt: created(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), uniqueIndex('users_email_key').on(sql`lower(${t.email})`)],
);

export const locations = pgTable(
  'locations',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    name: text('name').notNull(),
    /** Bumped by every change of the row: the ETag that If-Match compares. */
    version: integer('version').notNull().default(1),
    createdAt: created(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

export const items = pgTable(
  'items',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    sku: text('sku').notNull(),
    name: text('name').notNull(),
    barcode: text('barcode'),
    lowStockThreshold: integer('low_stock_threshold').notNull().default(0),
    /** Units held back from every channel; null = each channel's default buffer applies. */
    buffer: integer('buffer'),
    /** Bumped by every change of the row: the ETag that If-Match compares. */
    version: integer('version').notNull().default(1),
    /**
     * The catalog product this item is a variant of (src/services/products.ts). An item inserted
     * without one becomes a single-variant product of its own (trigger items_own_product, 0027),
     * so every path that creates items (API, CSV import, demo) keeps working unchanged.
     */
    productId: text('product_id'),
    /** The variant's option values, by option name: {"Size": "M", "Colour": "Red"}. */
    optionValues: jsonb('option_values').$type<Record<string, string>>().notNull().default({}),
    /** The variant's own price in minor units (pence); null = the product's base price. */
    priceMinor: bigint('price_minor', { mode: 'number' }),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('items_tenant_sku_key').on(t.tenantId, t.sku),
    index('items_product_idx').on(t.tenantId, t.productId),
    index('items_tenant_name_idx').on(t.tenantId, t.name),
    // Search (src/db/item-search.ts): one trigram index (pg_trgm, 0012) over SKU, name and barcode.
    index('items_search_trgm_idx')
      .using('gin', sql`(${t.sku} || E'\\x1f' || ${t.name} || E'\\x1f' || coalesce(${t.barcode}, '')) gin_trgm_ops`)
      .with({ gin_pending_list_limit: 256 }),
  ],
);

export const stockLevels = pgTable(
  'stock_levels',
  {
    tenantId: text('tenant_id').notNull(),
    itemId: text('item_id').notNull(),
    locationId: text('location_id').notNull(),
    onHand: integer('on_hand').notNull().default(0),
    reserved: integer('reserved').notNull().default(0),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    /** Id of the transaction that last changed the level: Sync finds what changed since its
     *  channel's cursor (a snapshot xmin, so a late-committing writer is never skipped). */
    changeTxid: bigint('change_txid', { mode: 'number' })
      .notNull()
      .default(sql`(pg_current_xact_id()::text::bigint)`),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.itemId, t.locationId] }),
    index('stock_levels_change_idx').on(t.tenantId, t.changeTxid),
    foreignKey({ columns: [t.tenantId, t.itemId], foreignColumns: [items.tenantId, items.id] }),
    foreignKey({ columns: [t.tenantId, t.locationId], foreignColumns: [locations.tenantId, locations.id] }),
  ],
);

/**
 * Per tenant, the level changes the stock alert check has already looked at: a snapshot cursor like
 * a channel's push cursor (src/db/push-cursor.ts), so each check reads only the items whose
 * levels changed since the last one. Zero (the default) means "look at every level once".
 */
export const stockAlertCursors = pgTable('stock_alert_cursors', {
  tenantId: text('tenant_id')
    .primaryKey()
    .references(() => tenants.id),
  cursor: bigint('cursor', { mode: 'number' }).notNull().default(0),
  cursorXmax: bigint('cursor_xmax', { mode: 'number' }).notNull().default(0),
  cursorXip: bigint('cursor_xip', { mode: 'number' })
    .array()
    .notNull()
    .default(sql`'{}'::bigint[]`),
});

export const MOVEMENT_REASONS = ['sale', 'return', 'receipt', 'adjustment', 'count', 'transfer_in', 'transfer_out'] as const;
export type MovementReason = (typeof MOVEMENT_REASONS)[number];

/** Append-only (a trigger rejects UPDATE and DELETE): the ledger. Levels are its snapshot. */
export const stockMovements = pgTable(
  'stock_movements',
  {
    tenantId: text('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    itemId: text('item_id').notNull(),
    locationId: text('location_id').notNull(),
    qtyDelta: integer('qty_delta').notNull(),
    reason: text('reason').$type<MovementReason>().notNull(),
    sourceChannelId: text('source_channel_id'),
    sourceEventId: text('source_event_id'),
    sourceUserId: text('source_user_id'),
    note: text('note'),
    createdAt: created(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('stock_movements_item_idx').on(t.tenantId, t.itemId, t.id),
    foreignKey({ columns: [t.tenantId, t.itemId, t.locationId], foreignColumns: [stockLevels.tenantId, stockLevels.itemId, stockLevels.locationId] }),
  ],
);

export const channels = pgTable(
  'channels',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    type: text('type').notNull(),
    name: text('name').notNull(),
    baseUrl: text('base_url').notNull(),
    /** AES-256-GCM ciphertext of the credentials JSON (src/db/crypto.ts); never returned by the API. */
    credentialsEnc: text('credentials_enc').notNull(),
    /** connected | paused | disconnected (auth failed) */
    status: text('status').notNull().default('connected'),
    /** { location_ids, default_buffer, percent, cap, sales_source, ...platform settings } */
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    pollCursor: text('poll_cursor'),
    /** Level changes from transactions older than this are already marked on this channel's listings. */
    pushCursor: bigint('push_cursor', { mode: 'number' })
      .notNull()
      .default(sql`(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)`),
    // With push_cursor (the xmin), the rest of the snapshot Sync last marked from: see src/db/push-cursor.ts.
    pushCursorXmax: bigint('push_cursor_xmax', { mode: 'number' }).notNull().default(0),
    pushCursorXip: bigint('push_cursor_xip', { mode: 'number' })
      .array()
      .notNull()
      .default(sql`'{}'::bigint[]`),
    /** The account's token bucket, shared by every worker process (src/engine/rate-gate.ts). */
    rateTokens: doublePrecision('rate_tokens'),
    rateAt: ts('rate_at'),
    lastPolledAt: ts('last_polled_at'),
    lastSyncAt: ts('last_sync_at'),
    lastError: text('last_error'),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  // Webhooks arrive addressed by channel id alone (/webhooks/:type/:channelId).
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), uniqueIndex('channels_id_key').on(t.id)],
);

export const listings = pgTable(
  'listings',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    channelId: text('channel_id').notNull(),
    /** Null while unmatched (imported from the channel, no item yet). */
    itemId: text('item_id'),
    externalId: text('external_id').notNull(),
    externalLocationId: text('external_location_id').notNull().default(''),
    externalSku: text('external_sku'),
    name: text('name'),
    lastPushedQty: integer('last_pushed_qty'),
    /** What the last push wrote into the platform's own field, where that differs from the quantity (RemoteListing.raw). */
    lastPushedRaw: integer('last_pushed_raw'),
    /**
     * The last few values our pushes wrote into that field, newest last: an earlier write's echo
     * can arrive after a later write (Vendure's movement events), and is ours all the same.
     */
    recentPushedRaw: integer('recent_pushed_raw').array(),
    /** What the channel holds as far as we know, and its version (revision / updated_at). */
    lastSeenQty: integer('last_seen_qty'),
    lastSeenVersion: text('last_seen_version'),
    lastSyncedAt: ts('last_synced_at'),
    /** in_sync | pending | failed | drift | unmatched */
    state: text('state').notNull().default('pending'),
    /** Bumped by every ledger change to the item; a push records the value it covered. */
    dirtySeq: bigint('dirty_seq', { mode: 'number' }).notNull().default(1),
    pushedSeq: bigint('pushed_seq', { mode: 'number' }).notNull().default(0),
    lastError: text('last_error'),
    createdAt: created(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('listings_external_key').on(t.tenantId, t.channelId, t.externalId, t.externalLocationId),
    index('listings_item_idx').on(t.tenantId, t.itemId),
    index('listings_sku_idx').on(t.tenantId, t.channelId, t.externalSku),
    index('listings_dirty_idx')
      .on(t.tenantId, t.channelId)
      .where(sql`${t.dirtySeq} > ${t.pushedSeq}`),
    foreignKey({ columns: [t.tenantId, t.channelId], foreignColumns: [channels.tenantId, channels.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.itemId], foreignColumns: [items.tenantId, items.id] }).onDelete('set null'),
  ],
);

/** Every inbound event once: the unique key is the exactly-once gate (invariant 2). */
export const channelEvents = pgTable(
  'channel_events',
  {
    tenantId: text('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    channelId: text('channel_id').notNull(),
    externalEventId: text('external_event_id').notNull(),
    kind: text('kind').notNull(),
    /** The normalised InboundEvent. */
    event: jsonb('event').$type<Record<string, unknown>>().notNull(),
    receivedAt: created(),
    appliedAt: ts('applied_at'),
    /** applied | echo | stale | confirmed | unmatched | ignored */
    outcome: text('outcome'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('channel_events_external_key').on(t.tenantId, t.channelId, t.externalEventId),
    index('channel_events_pending_idx')
      .on(t.tenantId, t.channelId, t.id)
      .where(sql`${t.appliedAt} is null`),
    // Retention (src/engine/retention.ts) finds the old end of the time-ordered history tables with
    // BRIN indexes: a few pages each, and next to nothing for an insert to keep up.
    index('channel_events_received_brin').using('brin', t.receivedAt),
  ],
);

/** Audit of every push / pull / repair with its outcome. */
export const syncEvents = pgTable(
  'sync_events',
  {
    tenantId: text('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    channelId: text('channel_id'),
    listingId: text('listing_id'),
    itemId: text('item_id'),
    /** push | pull | repair | guardian | inbound */
    kind: text('kind').notNull(),
    /** ok | stale | failed | retry | throttled | echo | drift | repaired | in_sync */
    outcome: text('outcome').notNull(),
    qty: integer('qty'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
    createdAt: created(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('sync_events_channel_idx').on(t.tenantId, t.channelId, t.id),
    index('sync_events_item_idx').on(t.tenantId, t.itemId, t.id),
    index('sync_events_created_brin').using('brin', t.createdAt),
  ],
);

export const alerts = pgTable(
  'alerts',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    /** low_stock | out_of_stock | channel_auth | sync_failure_rate | large_drift */
    type: text('type').notNull(),
    severity: text('severity').notNull().default('warning'),
    /** What the alert is about (item id, channel id, listing id): one open alert per (type, subject). */
    subject: text('subject').notNull(),
    message: text('message').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>(),
    /** open | acknowledged | resolved */
    status: text('status').notNull().default('open'),
    createdAt: created(),
    acknowledgedAt: ts('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
    resolvedAt: ts('resolved_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('alerts_open_key')
      .on(t.tenantId, t.type, t.subject)
      .where(sql`${t.status} <> 'resolved'`),
    index('alerts_tenant_idx').on(t.tenantId, t.createdAt),
  ],
);

/** What each Guardian run found, per channel. */
export const guardianRuns = pgTable(
  'guardian_runs',
  {
    tenantId: text('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    channelId: text('channel_id').notNull(),
    checked: integer('checked').notNull().default(0),
    inSync: integer('in_sync').notNull().default(0),
    repaired: integer('repaired').notNull().default(0),
    alerted: integer('alerted').notNull().default(0),
    skipped: integer('skipped').notNull().default(0),
    error: text('error'),
    startedAt: created(),
    finishedAt: ts('finished_at'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

/** Live worker processes. Jobs locked by a worker that stopped beating (kill -9, lost machine)
 *  are unlocked by the survivors, instead of waiting graphile-worker's 4-hour lock timeout. */
export const workerHeartbeats = pgTable('worker_heartbeats', {
  workerId: text('worker_id').primaryKey(),
  process: text('process').notNull(),
  heartbeatAt: ts('heartbeat_at').notNull().defaultNow(),
});

/**
 * The transactional outbox for jobs (invariant 3). Writers insert here in their own transaction
 * (one row per job key; a pending key absorbs later signals, which is the coalescing); the relay
 * moves rows into graphile-worker in batches. Writers never contend on a job row.
 */
export const jobOutbox = pgTable('job_outbox', {
  /** Unique per writing transaction and job key (see OUTBOX_INSERT): writers never wait on each other. */
  key: text('key').primaryKey(),
  /** graphile-worker's job_key: the relay coalesces rows with the same one into one job. */
  jobKey: text('job_key'),
  task: text('task').notNull(),
  payload: jsonb('payload').notNull(),
  queueName: text('queue_name'),
  runAt: ts('run_at'),
  maxAttempts: integer('max_attempts'),
  /** graphile-worker's priority (lower runs first; null = 0): catalog work runs below stock pushes. */
  priority: integer('priority'),
  createdAt: created(),
});

export const API_SCOPES = ['read', 'write', 'admin'] as const;

/** A tenant's API keys. Only the SHA-256 of the secret is kept: the key is shown once. */
/**
 * A dashboard login: one row per session (a "family" of refresh tokens), revoked as a whole by
 * logout, by a password change or reset, and when one of its refresh tokens is presented twice.
 * Access tokens (15-minute JWTs) name it in `sid`; src/services/sessions.ts holds the rules.
 */
export const sessions = pgTable(
  'sessions',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    userId: text('user_id').notNull(),
    createdAt: created(),
    lastUsedAt: ts('last_used_at').notNull().defaultNow(),
    /** When its newest refresh token stops working; each rotation moves it forward. */
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
    /** logout | refresh_token_reuse | password_changed | user_removed ... */
    revokedReason: text('revoked_reason'),
    userAgent: text('user_agent'),
    ip: text('ip'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete('cascade'),
    index('sessions_user_idx').on(t.tenantId, t.userId),
    index('sessions_expires_idx').on(t.expiresAt),
  ],
);

/**
 * The refresh tokens a session has issued, by the SHA-256 of the secret (like API keys). A token
 * works once: rotation marks it used and issues the next; a used one presented again is theft.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    sessionId: text('session_id').notNull(),
    createdAt: created(),
    usedAt: ts('used_at'),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.sessionId], foreignColumns: [sessions.tenantId, sessions.id] }).onDelete('cascade'),
    index('refresh_tokens_session_idx').on(t.tenantId, t.sessionId),
    index('refresh_tokens_used_idx').on(t.usedAt),
  ],
);

/**
 * Single-use secrets mailed to a user: a password reset (1 hour) or an email verification (7
 * days), kept as SHA-256 hashes like refresh tokens; the link holds the secret, never the database.
 */
export const userTokens = pgTable(
  'user_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    /** password_reset | email_verification */
    purpose: text('purpose').notNull(),
    tenantId: text('tenant_id').notNull(),
    userId: text('user_id').notNull(),
    /** The address it was sent to: a verification only counts for the address the user still has. */
    email: text('email').notNull(),
    createdAt: created(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
  },
  (t) => [
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete('cascade'),
    index('user_tokens_user_idx').on(t.tenantId, t.userId, t.purpose),
    index('user_tokens_expires_idx').on(t.expiresAt),
  ],
);

/**
 * An invitation to join a tenant with a role: emailed as a link holding a secret (stored as its
 * SHA-256), single use, 7 days. Accepting creates the user (src/services/invitations.ts).
 */
export const invitations = pgTable(
  'invitations',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    email: text('email').notNull(),
    role: text('role').notNull(),
    tokenHash: text('token_hash').notNull(),
    /** The user who invited (null when an API key did, or the user is gone). */
    invitedBy: text('invited_by'),
    createdAt: created(),
    expiresAt: ts('expires_at').notNull(),
    acceptedAt: ts('accepted_at'),
    /** The user the acceptance created. */
    userId: text('user_id'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('invitations_token_key').on(t.tokenHash),
    index('invitations_email_idx').on(t.tenantId, sql`lower(${t.email})`),
  ],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    name: text('name').notNull(),
    /** The first characters of the key, to recognise it in a list. */
    prefix: text('prefix').notNull(),
    secretHash: text('secret_hash').notNull(),
    scopes: text('scopes').array().notNull(),
    createdBy: text('created_by'),
    createdAt: created(),
    lastUsedAt: ts('last_used_at'),
    revokedAt: ts('revoked_at'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), uniqueIndex('api_keys_secret_key').on(t.secretHash)],
);

/**
 * Each API key's rate-limit bucket (src/http/plugins/rate-limit.ts), shared by every API process.
 * UNLOGGED (0017): a request's take writes no WAL, so it never waits for a disk flush; after a
 * crash the buckets are empty rows again and every key starts with a full burst.
 */
export const apiKeyBuckets = pgTable('api_key_buckets', {
  keyId: text('key_id').primaryKey(),
  tokens: doublePrecision('tokens').notNull(),
  takenAt: ts('taken_at').notNull(),
  /** Whether the last take got its token. */
  granted: boolean('granted').notNull(),
});

/** Keys of an integrating platform that act on several tenants (naming one per call in X-Tenant-ID).
 *  Created by the operator (`stockclerk platform-key`), not by a tenant. */
export const platformKeys = pgTable(
  'platform_keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    secretHash: text('secret_hash').notNull(),
    scopes: text('scopes').array().notNull(),
    createdAt: created(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [uniqueIndex('platform_keys_secret_key').on(t.secretHash)],
);

/** The tenants a platform key may act on. */
export const platformKeyTenants = pgTable(
  'platform_key_tenants',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    keyId: text('key_id')
      .notNull()
      .references(() => platformKeys.id, { onDelete: 'cascade' }),
    createdAt: created(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.keyId] })],
);

/** Idempotency-Key records: the first response of a POST, replayed for 24 h. */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    tenantId: text('tenant_id').notNull(),
    /** The user or key that sent it: keys are scoped per caller. */
    actorId: text('actor_id').notNull(),
    key: text('key').notNull(),
    /** SHA-256 of method, path and body: the same key with another request is refused. */
    requestHash: text('request_hash').notNull(),
    /** running | done */
    status: text('status').notNull(),
    /** Who holds a running key; a stale holder (crashed) is taken over after a while. */
    lockToken: text('lock_token'),
    lockedAt: ts('locked_at'),
    responseStatus: integer('response_status'),
    /** The response exactly as sent (text, so a replay is byte-for-byte the same). */
    responseBody: text('response_body'),
    responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
    createdAt: created(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.actorId, t.key] }), index('idempotency_keys_expiry_idx').on(t.expiresAt)],
);

/** Who changed what, when, from which key or user (written in the change's transaction). */
export const auditLog = pgTable(
  'audit_log',
  {
    tenantId: text('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    /** user | api_key | platform_key */
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id').notNull(),
    /** item.created, location.updated, stock.adjusted, api_key.revoked ... */
    action: text('action').notNull(),
    resourceType: text('resource_type').notNull(),
    resourceId: text('resource_id').notNull(),
    changes: jsonb('changes').$type<Record<string, unknown>>(),
    requestId: text('request_id'),
    createdAt: created(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('audit_log_resource_idx').on(t.tenantId, t.resourceId, t.id)],
);

/** Sales orders: their lines are their reservations (one per item, at the order's location). */
export const salesOrders = pgTable(
  'sales_orders',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    locationId: text('location_id').notNull(),
    reference: text('reference'),
    /** reserved | shipped | cancelled | expired */
    status: text('status').notNull(),
    version: integer('version').notNull().default(1),
    expiresAt: ts('expires_at').notNull(),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), foreignKey({ columns: [t.tenantId, t.locationId], foreignColumns: [locations.tenantId, locations.id] })],
);

/** Stock held (counted in stock_levels.reserved while active), for an order or on its own. */
export const reservations = pgTable(
  'reservations',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    orderId: text('order_id'),
    itemId: text('item_id').notNull(),
    locationId: text('location_id').notNull(),
    qty: integer('qty').notNull(),
    /** active | released | consumed (shipped) | expired */
    status: text('status').notNull(),
    expiresAt: ts('expires_at').notNull(),
    createdAt: created(),
    releasedAt: ts('released_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('reservations_order_idx').on(t.tenantId, t.orderId),
    index('reservations_expiry_idx')
      .on(t.expiresAt)
      .where(sql`${t.status} = 'active'`),
    foreignKey({ columns: [t.tenantId, t.orderId], foreignColumns: [salesOrders.tenantId, salesOrders.id] }),
    foreignKey({ columns: [t.tenantId, t.itemId, t.locationId], foreignColumns: [stockLevels.tenantId, stockLevels.itemId, stockLevels.locationId] }),
  ],
);

/** Tenants whose live stream some API process serves (src/db/live.ts): NOTIFY only for them. */
export const streamWatchers = pgTable(
  'stream_watchers',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    process: text('process').notNull(),
    seenAt: ts('seen_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.process] })],
);

/** Stock moving between two locations: out of the source on create (transfer_out), into the
 *  destination as it is received (transfer_in, partial receipts allowed), back to the source on cancel. */
export const transfers = pgTable(
  'transfers',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    fromLocationId: text('from_location_id').notNull(),
    toLocationId: text('to_location_id').notNull(),
    reference: text('reference'),
    /** in_transit | partially_received | received | cancelled */
    status: text('status').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.fromLocationId], foreignColumns: [locations.tenantId, locations.id] }),
    foreignKey({ columns: [t.tenantId, t.toLocationId], foreignColumns: [locations.tenantId, locations.id] }),
  ],
);

export const transferLines = pgTable(
  'transfer_lines',
  {
    tenantId: text('tenant_id').notNull(),
    transferId: text('transfer_id').notNull(),
    itemId: text('item_id').notNull(),
    qty: integer('qty').notNull(),
    receivedQty: integer('received_qty').notNull().default(0),
    /** What a cancel sent back to the source. */
    returnedQty: integer('returned_qty').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.transferId, t.itemId] }),
    foreignKey({ columns: [t.tenantId, t.transferId], foreignColumns: [transfers.tenantId, transfers.id] }),
    foreignKey({ columns: [t.tenantId, t.itemId], foreignColumns: [items.tenantId, items.id] }),
  ],
);

/** Purchase orders: stock ordered from a supplier; open lines count as `incoming` on the levels. */
export const purchaseOrders = pgTable(
  'purchase_orders',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    supplier: text('supplier'),
    reference: text('reference'),
    /** open | partially_received | received | cancelled | closed */
    status: text('status').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

export const purchaseOrderLines = pgTable(
  'purchase_order_lines',
  {
    tenantId: text('tenant_id').notNull(),
    purchaseOrderId: text('purchase_order_id').notNull(),
    itemId: text('item_id').notNull(),
    locationId: text('location_id').notNull(),
    qtyOrdered: integer('qty_ordered').notNull(),
    qtyReceived: integer('qty_received').notNull().default(0),
    unitCost: doublePrecision('unit_cost'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.purchaseOrderId, t.itemId, t.locationId] }),
    // `incoming` on a level: open lines by item and location.
    index('purchase_order_lines_level_idx').on(t.tenantId, t.itemId, t.locationId),
    foreignKey({ columns: [t.tenantId, t.purchaseOrderId], foreignColumns: [purchaseOrders.tenantId, purchaseOrders.id] }),
    foreignKey({ columns: [t.tenantId, t.itemId], foreignColumns: [items.tenantId, items.id] }),
    foreignKey({ columns: [t.tenantId, t.locationId], foreignColumns: [locations.tenantId, locations.id] }),
  ],
);

/** Kits / bundles: a kit item is made of components; it has no stock of its own. */
export const itemComponents = pgTable(
  'item_components',
  {
    tenantId: text('tenant_id').notNull(),
    kitItemId: text('kit_item_id').notNull(),
    componentItemId: text('component_item_id').notNull(),
    qty: integer('qty').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.kitItemId, t.componentItemId] }),
    // Which kits a changed component belongs to (Sync).
    index('item_components_component_idx').on(t.tenantId, t.componentItemId),
    foreignKey({ columns: [t.tenantId, t.kitItemId], foreignColumns: [items.tenantId, items.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.componentItemId], foreignColumns: [items.tenantId, items.id] }),
  ],
);

/**
 * Outbound webhooks (Standard Webhooks): a tenant's subscriptions. The secret is sealed (AES-GCM,
 * ctx.sealer); during a rotation the previous one keeps signing beside it until it expires.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    url: text('url').notNull(),
    description: text('description'),
    /** Event names and wildcards (order.*, transfer.*, *). */
    eventTypes: text('event_types').array().notNull(),
    /** active | paused (by the API or the circuit breaker) */
    status: text('status').notNull().default('active'),
    pausedReason: text('paused_reason'),
    secretSealed: text('secret_sealed').notNull(),
    previousSecretSealed: text('previous_secret_sealed'),
    previousSecretExpiresAt: ts('previous_secret_expires_at'),
    /** The circuit breaker's streak: failed attempts in a row, and when the streak began. */
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    failingSince: ts('failing_since'),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    // The ledger's one lookup per statement: does this tenant have a live subscription at all?
    index('webhook_endpoints_live_idx')
      .on(t.tenantId)
      .where(sql`${t.status} in ('active', 'paused')`),
  ],
);

/** One row per event that at least one endpoint subscribed to, written in its cause's transaction. */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: created(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('webhook_events_created_brin').using('brin', t.createdAt)],
);

/** One event for one endpoint: pending -> delivered, or after the last retry, dead (the dead-letter list). */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    endpointId: text('endpoint_id').notNull(),
    eventId: text('event_id').notNull(),
    /** pending | delivered | dead */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** Index into the retry schedule (a replay starts it again). */
    retryIndex: integer('retry_index').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    deliveredAt: ts('delivered_at'),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.endpointId], foreignColumns: [webhookEndpoints.tenantId, webhookEndpoints.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.eventId], foreignColumns: [webhookEvents.tenantId, webhookEvents.id] }),
    index('webhook_deliveries_endpoint_idx').on(t.tenantId, t.endpointId, t.createdAt),
    index('webhook_deliveries_due_idx')
      .on(t.tenantId, t.endpointId, t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
    index('webhook_deliveries_created_brin').using('brin', t.createdAt),
    // Which deliveries still point at an event (retention deletes events none points at).
    index('webhook_deliveries_event_idx').on(t.tenantId, t.eventId),
  ],
);

/** The delivery log: every attempt with its answer. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    tenantId: text('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    endpointId: text('endpoint_id').notNull(),
    deliveryId: text('delivery_id').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
    createdAt: created(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.endpointId], foreignColumns: [webhookEndpoints.tenantId, webhookEndpoints.id] }).onDelete('cascade'),
    index('webhook_attempts_endpoint_idx').on(t.tenantId, t.endpointId, t.id),
    index('webhook_attempts_delivery_idx').on(t.tenantId, t.deliveryId, t.id),
  ],
);

/**
 * Long work run by the worker for the API (issue 4 point 8): CSV imports and exports. The import's
 * CSV waits in `input` until the job has run; per-row errors stay in `errors`; files to download
 * (an export, an import's error report) are stored as ordered chunks in api_job_chunks.
 */
export const apiJobs = pgTable(
  'api_jobs',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    /** import_items | import_stock_counts | export_items | export_stock_levels | export_movements */
    kind: text('kind').notNull(),
    /** queued | running | succeeded | failed */
    status: text('status').notNull().default('queued'),
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    input: text('input'),
    rowsTotal: integer('rows_total'),
    rowsDone: integer('rows_done').notNull().default(0),
    rowsFailed: integer('rows_failed').notNull().default(0),
    /** Rows of the valid set already committed (an import resumes after them when retried). */
    batchesDone: integer('batches_done').notNull().default(0),
    result: jsonb('result').$type<Record<string, unknown>>(),
    errors: jsonb('errors').$type<Array<{ line: number; message: string }>>(),
    error: text('error'),
    fileChunks: integer('file_chunks').notNull().default(0),
    createdBy: text('created_by').notNull(),
    createdAt: created(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

export const apiJobChunks = pgTable(
  'api_job_chunks',
  {
    tenantId: text('tenant_id').notNull(),
    jobId: text('job_id').notNull(),
    seq: integer('seq').notNull(),
    data: text('data').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.jobId, t.seq] }),
    foreignKey({ columns: [t.tenantId, t.jobId], foreignColumns: [apiJobs.tenantId, apiJobs.id] }).onDelete('cascade'),
  ],
);

/**
 * Enterprise enquiries from the public landing page's form (src/services/enquiries.ts): not a
 * tenant's data (the visitor has no account), read by operators in the console.
 */
export const enquiries = pgTable(
  'enquiries',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    email: text('email').notNull(),
    company: text('company').notNull(),
    /** How many shops (channels) they expect to connect. */
    shops: integer('shops'),
    message: text('message').notNull(),
    /** new | contacted | won | lost */
    status: text('status').notNull().default('new'),
    /** What an operator noted while handling it. */
    note: text('note'),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('enquiries_status_idx').on(t.status, t.id)],
);

/**
 * Usage per tenant per UTC day (src/services/usage.ts): one row per tenant and day, counters
 * added in batches, kept (a year of a tenant is 365 small rows).
 */
export const usageDaily = pgTable(
  'usage_daily',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    day: date('day', { mode: 'string' }).notNull(),
    /** Requests to /api/v1 made with an API key or a session (the dashboard's too). */
    apiCalls: integer('api_calls').notNull().default(0),
    /** Stock pushes sent to channels. */
    pushes: integer('pushes').notNull().default(0),
    /** Inbound channel webhooks accepted. */
    webhooks: integer('webhooks').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.day] })],
);

/**
 * An operator looking at a tenant's dashboard as its users see it (src/services/impersonation.ts):
 * read-only by default, 15 minutes, ended early by either side. The row is what the merchant's
 * banner shows and what every impersonated request is audited against.
 */
export const impersonations = pgTable(
  'impersonations',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    operatorUserId: text('operator_user_id').notNull(),
    operatorEmail: text('operator_email').notNull(),
    /** The operator's own tenant: its audit log records the session too. */
    operatorTenantId: text('operator_tenant_id').notNull(),
    reason: text('reason').notNull(),
    readOnly: boolean('read_only').notNull().default(true),
    startedAt: created(),
    expiresAt: ts('expires_at').notNull(),
    endedAt: ts('ended_at'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('impersonations_active_idx').on(t.tenantId, t.expiresAt)],
);

/**
 * Every running StockClerk process (API, worker or both) says it is alive every few seconds with
 * its memory and job figures (src/engine/process-beat.ts): what the operators' health view reads.
 * A process gone for a minute drops out; its row stays until the next one cleans up.
 */
export const processHeartbeats = pgTable('process_heartbeats', {
  /** hostname:pid */
  id: text('id').primaryKey(),
  /** start | api | worker */
  role: text('role').notNull(),
  startedAt: ts('started_at').notNull(),
  heartbeatAt: ts('heartbeat_at').notNull().defaultNow(),
  rssBytes: bigint('rss_bytes', { mode: 'number' }).notNull(),
  heapBytes: bigint('heap_bytes', { mode: 'number' }).notNull(),
  /** Jobs finished by this process since it started, and how many of those failed. */
  jobsTotal: bigint('jobs_total', { mode: 'number' }).notNull().default(0),
  jobsFailed: bigint('jobs_failed', { mode: 'number' }).notNull().default(0),
  /** Over the last minute: jobs finished, their mean run time, and their mean wait past due. */
  jobsLastMin: integer('jobs_last_min').notNull().default(0),
  jobMsLastMin: doublePrecision('job_ms_last_min'),
  latencyMsLastMin: doublePrecision('latency_ms_last_min'),
});

/**
 * Billing mails already sent (src/engine/billing.ts billingNotices): one per tenant, kind and
 * period (the trial end or the lapse it is about), so the periodic check mails each once and a new
 * lapse mails again.
 */
export const billingNotices = pgTable(
  'billing_notices',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    /** trial_ending | trial_ended | pushes_paused */
    kind: text('kind').notNull(),
    period: text('period').notNull(),
    sentAt: ts('sent_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.kind, t.period] })],
);

/**
 * The catalog (issue 13): a product is what a marketplace lists, its variants are items (each with
 * its SKU and stock). Prices are integers in minor units of `currency`.
 */
export const products = pgTable(
  'products',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    brand: text('brand'),
    /** The merchant's own category path ("Clothing > Shirts"); channels map it to theirs (overrides). */
    category: text('category'),
    priceMinor: bigint('price_minor', { mode: 'number' }),
    currency: text('currency').notNull().default('GBP'),
    weightG: integer('weight_g'),
    lengthMm: integer('length_mm'),
    widthMm: integer('width_mm'),
    heightMm: integer('height_mm'),
    /** Free attributes: {"material": "cotton"}. */
    attributes: jsonb('attributes').$type<Record<string, string>>().notNull().default({}),
    /** The options variants differ by, in order: [{"name": "Size", "values": ["S", "M", "L"]}]. */
    options: jsonb('options').$type<Array<{ name: string; values: string[] }>>().notNull().default([]),
    tags: text('tags')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** active | archived */
    status: text('status').notNull().default('active'),
    version: integer('version').notNull().default(1),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('products_title_idx').on(t.tenantId, t.title)],
);

/** A product's images, in order; the bytes live in the image store (src/catalog/image-store.ts). */
export const productImages = pgTable(
  'product_images',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    productId: text('product_id').notNull(),
    position: integer('position').notNull(),
    /** Where the store keeps the bytes; also the unguessable part of the public URL. */
    storageKey: text('storage_key').notNull(),
    contentType: text('content_type').notNull(),
    bytes: integer('bytes').notNull(),
    sha256: text('sha256').notNull(),
    alt: text('alt'),
    createdAt: created(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('product_images_product_idx').on(t.tenantId, t.productId, t.position),
    uniqueIndex('product_images_storage_key').on(t.storageKey),
    foreignKey({ columns: [t.tenantId, t.productId], foreignColumns: [products.tenantId, products.id] }),
  ],
);

/**
 * What a product looks like on one channel when it differs from the master: title, description,
 * price (absolute, or a rule on the base price), images, and the channel's category and attributes.
 */
export const productOverrides = pgTable(
  'product_overrides',
  {
    tenantId: text('tenant_id').notNull(),
    productId: text('product_id').notNull(),
    channelId: text('channel_id').notNull(),
    title: text('title'),
    description: text('description'),
    /** {"type": "absolute", "minor": 1999} | {"type": "percent", "percent": 15} (+15% on the base price) */
    price: jsonb('price').$type<{ type: 'absolute'; minor: number } | { type: 'percent'; percent: number }>(),
    /** Image ids in the order this channel shows them; null = the product's. */
    imageIds: text('image_ids').array(),
    categoryId: text('category_id'),
    attributes: jsonb('attributes').$type<Record<string, string>>().notNull().default({}),
    version: integer('version').notNull().default(1),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.productId, t.channelId] }),
    foreignKey({ columns: [t.tenantId, t.productId], foreignColumns: [products.tenantId, products.id] }),
    foreignKey({ columns: [t.tenantId, t.channelId], foreignColumns: [channels.tenantId, channels.id] }),
  ],
);

/**
 * A product on one marketplace channel: its state (draft | publishing | live | error | delisted),
 * the ids the platform gave it, what we last sent (the snapshot conflict checks compare against)
 * and the step a running action reached (a retried job resumes after the requests that went out).
 */
export const publications = pgTable(
  'publications',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    productId: text('product_id').notNull(),
    channelId: text('channel_id').notNull(),
    state: text('state').notNull().default('draft'),
    /** The action running or last run: publish | update | delist | relist. */
    action: text('action'),
    /** Bulk publishing work: a catalog job (publication_jobs) this action belongs to, or null. */
    jobId: text('job_id'),
    externalId: text('external_id'),
    refs: jsonb('refs').$type<Record<string, string>>().notNull().default({}),
    /** The catalog fields as we last sent them: {title, description, price_minor}. */
    sent: jsonb('sent').$type<{ title: string; description: string; price_minor: number | null } | null>(),
    /** Progress of the running action: the next request's index and the values captured so far. */
    step: integer('step').notNull().default(0),
    captured: jsonb('captured').$type<Record<string, string>>().notNull().default({}),
    attempts: integer('attempts').notNull().default(0),
    /** The platform's refusal in words a merchant can act on. */
    lastError: text('last_error'),
    version: integer('version').notNull().default(1),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('publications_product_channel').on(t.tenantId, t.productId, t.channelId),
    index('publications_channel_idx').on(t.tenantId, t.channelId, t.state),
    foreignKey({ columns: [t.tenantId, t.productId], foreignColumns: [products.tenantId, products.id] }),
    foreignKey({ columns: [t.tenantId, t.channelId], foreignColumns: [channels.tenantId, channels.id] }),
  ],
);

/** Every state a publication went through, with the action, the requests sent and the error. */
export const publicationEvents = pgTable(
  'publication_events',
  {
    tenantId: text('tenant_id').notNull(),
    id: bigserial('id', { mode: 'number' }).notNull(),
    publicationId: text('publication_id').notNull(),
    action: text('action').notNull(),
    state: text('state').notNull(),
    requests: integer('requests').notNull().default(0),
    error: text('error'),
    at: ts('at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('publication_events_pub_idx').on(t.tenantId, t.publicationId, t.id)],
);

/** A bulk publish or update: many products to many channels as one job with progress. */
export const publicationJobs = pgTable(
  'publication_jobs',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    action: text('action').notNull(),
    /** running | paused | done | failed */
    status: text('status').notNull().default('running'),
    total: integer('total').notNull(),
    done: integer('done').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    createdBy: text('created_by'),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

/**
 * A catalog field a channel reports that disagrees with the master and is not our own echo:
 * recorded instead of overwriting either side, until someone (or the channel's policy) resolves it.
 */
export const conflicts = pgTable(
  'conflicts',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    channelId: text('channel_id').notNull(),
    productId: text('product_id').notNull(),
    publicationId: text('publication_id'),
    /** title | description | price_minor | stock (one variant's quantity: item_id says which) */
    field: text('field').notNull(),
    /** The variant a stock conflict is about (null for the product's catalog fields). */
    itemId: text('item_id'),
    masterValue: jsonb('master_value'),
    platformValue: jsonb('platform_value'),
    /** open | resolved */
    status: text('status').notNull().default('open'),
    /** use_master | use_platform | manual */
    resolution: text('resolution'),
    resolvedValue: jsonb('resolved_value'),
    resolvedBy: text('resolved_by'),
    detectedAt: ts('detected_at').notNull().defaultNow(),
    resolvedAt: ts('resolved_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    // One open conflict per field of a listing (per variant for stock): a later differing read updates it.
    uniqueIndex('conflicts_open_field')
      .on(t.tenantId, t.channelId, t.productId, t.field, sql`coalesce(item_id, '')`)
      .where(sql`status = 'open'`),
    index('conflicts_status_idx').on(t.tenantId, t.status, t.detectedAt),
  ],
);

/**
 * Sync rules (src/domain/sync-rules.ts): conditions -> an action on what channels are told,
 * taken in priority order (lower first). Any change bumps tenants.sync_rules_version.
 */
export const syncRules = pgTable(
  'sync_rules',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: text('id').notNull(),
    name: text('name').notNull(),
    priority: integer('priority').notNull().default(100),
    enabled: boolean('enabled').notNull().default(true),
    /** {channel_ids?, categories?, tags?, product_ids?, stock_below?, stock_at_least?} */
    conditions: jsonb('conditions').$type<Record<string, unknown>>().notNull().default({}),
    /** {type: cap | keep_back | percent | hide_below | price_adjust, value, unit?} */
    action: jsonb('action').$type<Record<string, unknown>>().notNull(),
    version: integer('version').notNull().default(1),
    createdAt: created(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('sync_rules_priority_idx').on(t.tenantId, t.priority, t.id)],
);

/**
 * Browser-extension channels (docs/extension-protocol.md): a token a user issued for one channel,
 * with which an extension installed in the seller's browser pairs. Only its SHA-256 is stored
 * (src/db/api-keys.ts says why one hash is enough for 256 random bits). `connected_at` /
 * `last_seen_at` say whether an extension holds a socket now (refreshed by its heartbeats).
 */
export const extensionTokens = pgTable(
  'extension_tokens',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    channelId: text('channel_id').notNull(),
    userId: text('user_id'),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    secretHash: text('secret_hash').notNull(),
    createdAt: created(),
    revokedAt: ts('revoked_at'),
    /** Set while a socket is open with this token, cleared when it closes. */
    connectedAt: ts('connected_at'),
    lastSeenAt: ts('last_seen_at'),
    /** The marketplace session as the extension last reported it: {logged_in, account}. */
    status: jsonb('status').$type<{ logged_in: boolean; account: string | null } | null>(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('extension_tokens_secret_key').on(t.secretHash),
    index('extension_tokens_channel_idx').on(t.tenantId, t.channelId),
    foreignKey({ columns: [t.tenantId, t.channelId], foreignColumns: [channels.tenantId, channels.id] }).onDelete('cascade'),
  ],
);

/**
 * Jobs an extension runs for its channel (docs/extension-protocol.md): queued until an extension
 * is connected, sent to it, then done or failed with what it reported. `key` makes queueing
 * idempotent: while a job with the key is unconsumed, queueing it again is the same job.
 * status: queued | sent | done | failed. `consumed_at`: the result was read by whoever queued it.
 */
export const extensionJobs = pgTable(
  'extension_jobs',
  {
    tenantId: text('tenant_id').notNull(),
    id: text('id').notNull(),
    channelId: text('channel_id').notNull(),
    kind: text('kind').notNull(),
    key: text('key').notNull(),
    payload: jsonb('payload').notNull(),
    /** Someone waits for the result (and consumes it); a job nobody awaits is consumed when it ends. */
    awaited: boolean('awaited').notNull().default(false),
    status: text('status').notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    notBefore: ts('not_before').notNull().defaultNow(),
    result: jsonb('result'),
    error: jsonb('error').$type<{ kind: string; message: string } | null>(),
    createdAt: created(),
    sentAt: ts('sent_at'),
    doneAt: ts('done_at'),
    consumedAt: ts('consumed_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('extension_jobs_open_key')
      .on(t.tenantId, t.channelId, t.key)
      .where(sql`consumed_at is null`),
    index('extension_jobs_queue_idx').on(t.tenantId, t.channelId, t.status, t.createdAt),
    foreignKey({ columns: [t.tenantId, t.channelId], foreignColumns: [channels.tenantId, channels.id] }).onDelete('cascade'),
  ],
);
