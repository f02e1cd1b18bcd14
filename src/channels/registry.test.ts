// Rules every channel module keeps, checked over the registry: a new platform's folder is held to
// them the moment its registry line exists.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CHANNELS, CHANNEL_TYPES, channelPolicyOf, connectSettingFields, credentialFields } from './registry.ts';
import { loadSettings, savedSettings, settingsJsonSchema, settingsPatch, SYNC_SETTINGS } from './settings.ts';

const modules = CHANNEL_TYPES.map((type) => [type, CHANNELS[type]] as const);

describe.each(modules)('the %s module', (type, mod) => {
  it('is registered under its own type, with a label and a usable default host (or none)', () => {
    expect(mod.type).toBe(type);
    expect(mod.label.trim()).not.toBe('');
    if (mod.defaultBaseUrl !== null) expect(new URL(mod.defaultBaseUrl).protocol).toBe('https:');
    expect(mod.capabilities.rateLimit.perSecond).toBeGreaterThan(0);
    expect(mod.capabilities.rateLimit.burst).toBeGreaterThanOrEqual(1);
  });

  it('declares credentials as labelled strings, secrets marked, at least one required', () => {
    const fields = credentialFields(mod);
    if (mod.capabilities.transport === 'extension') {
      // It works through the seller's own browser session (our extension, paired by a token the
      // dashboard issues): there is nothing to paste, and asking for something would be a lie.
      expect(fields).toEqual([]);
      expect(mod.credentials.safeParse({}).success).toBe(true);
      expect(mod.credentials.safeParse({ password: 'x' }).success).toBe(false);
      return;
    }
    expect(fields.length).toBeGreaterThan(0);
    expect(fields.some((f) => f.required)).toBe(true);
    for (const f of fields) expect(f.label).not.toBe(f.name);
    expect(mod.credentials.safeParse({}).success).toBe(false);
    expect(mod.credentials.safeParse(Object.fromEntries(fields.map((f) => [f.name, 'x']))).success).toBe(true);
  });

  it('settings: the shared sync policy plus its own fields; an unknown key is refused, saved or patched', () => {
    for (const key of Object.keys(SYNC_SETTINGS)) expect(mod.settings.shape).toHaveProperty(key);
    expect(savedSettings(mod.settings).safeParse({ no_such_setting: 1 }).success).toBe(false);
    expect(settingsPatch(mod.settings).safeParse({ no_such_setting: null }).success).toBe(false);
    // A value of the wrong kind is refused too.
    expect(savedSettings(mod.settings).safeParse({ percent: 2 }).success).toBe(false);
  });

  it('settings: its documented defaults are what a row without settings reads as, and are valid to save', () => {
    const defaults = loadSettings(mod.settings, {});
    const documented = settingsJsonSchema(mod.settings) as { properties: Record<string, { default?: unknown }>; required?: string[] };
    expect(documented.required ?? []).toEqual([]);
    const declared = Object.fromEntries(
      Object.entries(documented.properties)
        .filter(([, p]) => 'default' in p)
        .map(([k, p]) => [k, p.default]),
    );
    expect(defaults).toEqual(declared);
    expect(savedSettings(mod.settings).parse(defaults)).toEqual(defaults);
    // Saving stores what was sent: no default is filled in.
    expect(savedSettings(mod.settings).parse({})).toEqual({});
    // request_timeout_ms is every adapter's, parsed here once.
    expect(defaults).toHaveProperty('request_timeout_ms', expect.any(Number));
  });

  it('the connect form asks for settings it declares, labelled', () => {
    for (const f of connectSettingFields(mod)) {
      expect(mod.settings.shape).toHaveProperty(f.name);
      expect(f.label).not.toBe(f.name);
    }
  });
});

describe('reading a stored row', () => {
  const mod = CHANNELS[CHANNEL_TYPES[0]!];

  it('ignores keys no schema knows and falls back to the default for a value that no longer fits', () => {
    const read = loadSettings(mod.settings, { emulated: true, default_buffer: 3, percent: 7, location_ids: ['not-a-location'] });
    expect(read).not.toHaveProperty('emulated');
    expect(read).toMatchObject({ default_buffer: 3, percent: 1, location_ids: [] });
    expect(loadSettings(mod.settings, null)).toEqual(loadSettings(mod.settings, {}));
  });

  it('gives a channel of an unknown type (a test row) the sync policy and the default source of sales', () => {
    expect(channelPolicyOf('no-such-type', { default_buffer: 2, cap: 5 })).toMatchObject({
      defaultBuffer: 2,
      cap: 5,
      percent: 1,
      salesSource: 'orders',
      locationIds: [],
    });
  });
});

describe('a platform lives in its folder', () => {
  // Every code line under these roots; comments may name a platform as an example.
  const ROOTS = ['src/http', 'src/engine', 'src/ledger', 'web/src'];
  const names = [...CHANNEL_TYPES, ...CHANNEL_TYPES.map((t) => CHANNELS[t].label)].map((n) => n.toLowerCase().replace(/\s+/g, ' ?'));
  const pattern = new RegExp(names.join('|'), 'i');
  const isComment = (line: string) => /^\s*(\/\/|\/\*|\*)/.test(line);

  function* files(dir: string): Generator<string> {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) yield* files(p);
      else if (/\.(ts|tsx)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name)) yield p;
    }
  }

  it('no code line in HTTP, engine, ledger or dashboard code names one', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const hits: string[] = [];
    for (const r of ROOTS) {
      for (const f of files(path.join(root, r))) {
        fs.readFileSync(f, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (!isComment(line) && pattern.test(line)) hits.push(`${path.relative(root, f)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(hits).toEqual([]);
  });
});

describe('the zod building blocks', () => {
  it('a secret credential is writeOnly in the JSON Schema the API serves', () => {
    const mod = CHANNELS[CHANNEL_TYPES[0]!];
    const json = z.toJSONSchema(mod.credentials, { io: 'input' }) as { properties: Record<string, { writeOnly?: boolean }> };
    for (const f of credentialFields(mod)) expect(json.properties[f.name]!.writeOnly === true).toBe(f.secret);
  });
});
