// A channel's settings, parsed in one place. Each platform declares its schema as the sync policy
// every channel shares (SYNC_SETTINGS, below) plus its own fields (src/channels/<type>/settings.ts),
// with the documented default of each field as the zod default. From that one schema:
// - savedSettings: what a caller may store (strict: an unknown key is refused; nothing is filled in,
//   so a row holds what the merchant chose and a default can change later);
// - settingsPatch: a PATCH (null removes a setting: back to its default);
// - loadSettings: a stored row read with the defaults applied, typed, for the adapter and the
//   sync policy (src/domain/channel-policy.ts).
import { z } from 'zod';
import type { SyncSettings } from '../domain/channel-policy.ts';
import { locationRef, platformId } from './fields.ts';

/** The sync policy: which locations a channel sells from and how much of their stock it offers. */
export const SYNC_SETTINGS = {
  location_ids: z
    .array(locationRef)
    .max(100)
    .meta({ title: 'Locations', description: 'Locations whose stock the channel sells (the first also takes its sales); empty = every location' })
    .default(() => []),
  default_buffer: z.number().int().min(0).max(1_000_000).meta({ title: 'Buffer', description: 'Units held back from the channel' }).default(0),
  percent: z.number().min(0).max(1).meta({ title: 'Share', description: 'Share of the available stock offered, 0..1' }).default(1),
  cap: z.number().int().min(0).max(1_000_000_000).meta({ title: 'Cap', description: 'Most units the channel is offered; absent = no cap' }).optional(),
  sales_source: z
    .enum(['orders', 'levels'])
    .meta({
      title: 'Source of sales',
      description: "Where the channel's sales are read from; absent = the platform's natural source (its capabilities' defaultSalesSource)",
    })
    .optional(),
  location_map: z
    .record(platformId, locationRef)
    .refine((m) => Object.keys(m).length <= 100, 'at most 100 entries')
    .meta({ title: 'Location map', description: 'Platform location id -> our location id' })
    .default(() => ({})),
};

/** What marketplaces (channels with a catalog side) add to their settings: how catalog conflicts are settled. */
export const CATALOG_SETTINGS = {
  conflict_policy: z
    .enum(['ask', 'use_master', 'use_platform'])
    .meta({
      title: 'Conflicts',
      description:
        'When the platform holds a title, description, price or stock level that differs from ours: ask (queue it), keep ours, or take theirs (stock is always queued rather than taken: a lower count there may be a sale whose order has not arrived yet)',
    })
    .default('ask'),
};

/** Settings that change what a channel should hold: changing one marks its listings for a push. */
export const SELLABLE_SETTINGS: ReadonlyArray<keyof typeof SYNC_SETTINGS> = ['location_ids', 'default_buffer', 'percent', 'cap'];

/** A platform's settings schema: the sync policy plus the platform's own fields. */
export function channelSettings<S extends z.ZodRawShape>(platform: S) {
  return z.strictObject({ ...SYNC_SETTINGS, ...platform });
}

/** Any platform's settings schema (what the registry holds). */
export type SettingsSchema = z.ZodObject<typeof SYNC_SETTINGS & z.ZodRawShape, z.core.$strict>;

/** Only the sync policy: how a channel of a type no module declares is read (rows a test wrote). */
export const SYNC_ONLY = channelSettings({});

// The sync policy is the domain's shape (the domain imports no zod): keep the two in step.
const _syncMatchesDomain: z.ZodType<SyncSettings> = SYNC_ONLY;
void _syncMatchesDomain;

/** The field without its default and without optional(): what a caller may send for it. */
function bare(field: z.ZodType): z.ZodType {
  let f = field;
  while (f instanceof z.ZodDefault || f instanceof z.ZodOptional) f = f.unwrap() as z.ZodType;
  return f;
}

const derived = new WeakMap<SettingsSchema, { saved: z.ZodObject; patch: z.ZodObject; lenient: z.ZodObject }>();

function derive(schema: SettingsSchema) {
  let d = derived.get(schema);
  if (!d) {
    const fields = Object.entries(schema.shape as unknown as Record<string, z.ZodType>);
    d = {
      saved: z.strictObject(Object.fromEntries(fields.map(([k, f]) => [k, bare(f).optional()]))),
      patch: z.strictObject(Object.fromEntries(fields.map(([k, f]) => [k, bare(f).nullable().optional()]))),
      // Reading a row: keys no schema knows (the demo's bookkeeping, a setting a platform dropped) are ignored.
      lenient: z.object(schema.shape),
    };
    derived.set(schema, d);
  }
  return d;
}

/** Validates settings a caller saves; the output holds the keys that were sent, and no defaults. */
export const savedSettings = (schema: SettingsSchema) => derive(schema).saved;

/** Validates a settings PATCH: any subset of the keys, `null` to remove one. */
export const settingsPatch = (schema: SettingsSchema) => derive(schema).patch;

/**
 * A stored row's settings, defaults applied. A value that no longer fits its field (the schema
 * grew stricter since it was saved) falls back to the field's default instead of taking the
 * channel down: saving refuses such values, so only old rows can hold one.
 */
export function loadSettings<T extends SettingsSchema>(schema: T, stored: unknown): z.output<T> & SyncSettings {
  const input: Record<string, unknown> = stored && typeof stored === 'object' && !Array.isArray(stored) ? { ...stored } : {};
  const lenient = derive(schema).lenient;
  for (;;) {
    const r = lenient.safeParse(input);
    if (r.success) return r.data as z.output<T> & SyncSettings;
    const bad = r.error.issues.map((i) => i.path[0]).filter((k): k is string => typeof k === 'string' && k in input);
    // Nothing left to drop: the schema's own defaults do not parse (registry.test.ts rules that out).
    if (bad.length === 0) throw r.error;
    for (const k of bad) delete input[k];
  }
}

/** The JSON Schema of what a channel of this type may hold in `settings`, defaults included. */
export function settingsJsonSchema(schema: SettingsSchema): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}
