// Credentials at rest (channel credentials, webhook signing secrets, answers holding a secret):
// AES-256-GCM, a random 96-bit IV per value. Several keys can be in use at once (a rotation):
// the first of the keyring encrypts, every one decrypts. A value names its key:
// "v2.<key id>.<iv>.<tag>.<ciphertext>" (base64url). Values from before keys had ids,
// "v1.<iv>.<tag>.<ciphertext>", are opened with whichever key authenticates them.
// `stockclerk rotate-keys` (src/services/key-rotation.ts) re-seals every value with the first key.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface SealingKey {
  id: string;
  key: Buffer;
}

/** A key's id when its configuration names none: a fingerprint (never the key itself). */
export const fingerprint = (key: Buffer): string => 'k' + createHash('sha256').update(key).digest('hex').slice(0, 10);

/** `id:base64, id:base64, ...` (or bare base64 keys, named by fingerprint): ENCRYPTION_KEYS. */
export function parseKeyring(spec: string): SealingKey[] {
  const keys = spec
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(':');
      const key = Buffer.from(at > 0 ? entry.slice(at + 1) : entry, 'base64');
      const id = at > 0 ? entry.slice(0, at) : fingerprint(key);
      if (!/^[A-Za-z0-9_-]{1,40}$/.test(id)) throw new Error(`ENCRYPTION_KEYS: key id "${id}" must be letters, digits, - or _`);
      return { id, key };
    });
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new Error('ENCRYPTION_KEYS: two keys share an id');
  return keys;
}

export class Sealer {
  private readonly keys: SealingKey[];
  private readonly byId: Map<string, Buffer>;
  /** One key (a Buffer, named by its fingerprint) or a keyring whose first key encrypts. */
  constructor(keys: Buffer | SealingKey[]) {
    this.keys = Buffer.isBuffer(keys) ? [{ id: fingerprint(keys), key: keys }] : keys;
    if (this.keys.length === 0) throw new Error('no encryption key');
    for (const k of this.keys) if (k.key.length !== 32) throw new Error(`encryption key ${k.id} must be 32 bytes (base64)`);
    this.byId = new Map(this.keys.map((k) => [k.id, k.key]));
  }

  /** The id of the key new values are sealed with. */
  get currentKeyId(): string {
    return this.keys[0]!.id;
  }

  seal(plain: unknown): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    const ct = Buffer.concat([c.update(JSON.stringify(plain), 'utf8'), c.final()]);
    return ['v2', id, iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  open<T = Record<string, string>>(sealed: string): T {
    const parts = sealed.split('.');
    if (parts[0] === 'v2' && parts.length === 5) {
      const key = this.byId.get(parts[1]!);
      if (!key) throw new Error(`sealed with key ${parts[1]}, which is not in the keyring (ENCRYPTION_KEYS)`);
      return decrypt<T>(key, parts[2]!, parts[3]!, parts[4]!);
    }
    if (parts[0] === 'v1' && parts.length === 4) {
      for (const { key } of this.keys) {
        try {
          return decrypt<T>(key, parts[1]!, parts[2]!, parts[3]!);
        } catch {
          // not this key: GCM's tag did not verify
        }
      }
      throw new Error('sealed with a key that is not in the keyring (ENCRYPTION_KEYS)');
    }
    throw new Error('unreadable sealed value');
  }
}

function decrypt<T>(key: Buffer, iv: string, tag: string, ct: string): T {
  const d = createDecipheriv('aes-256-gcm', key, b64(iv));
  d.setAuthTag(b64(tag));
  return JSON.parse(Buffer.concat([d.update(b64(ct)), d.final()]).toString('utf8')) as T;
}

/**
 * base64url as seal() writes it, and nothing else: Node's decoder skips characters it cannot use
 * (a trailing one past a whole byte), so a sealed value with a character added would otherwise
 * still open.
 */
function b64(s: string): Buffer {
  const b = Buffer.from(s, 'base64url');
  if (b.toString('base64url') !== s) throw new Error('unreadable sealed value');
  return b;
}

/**
 * The keyring of a process: ENCRYPTION_KEYS when set, else the one key of ENCRYPTION_KEY or of
 * DATA_DIR/credentials.key (generated on first start).
 */
export function loadKeyring(config: { encryptionKeys: string | null; encryptionKey: string | null; dataDir: string }): SealingKey[] {
  if (config.encryptionKeys) return parseKeyring(config.encryptionKeys);
  const key = loadOrCreateSecret(config.encryptionKey, config.dataDir, 'credentials.key');
  return [{ id: fingerprint(key), key }];
}

/** A secret from config, else one generated once into DATA_DIR/<file> and reused on later runs. */
export function loadOrCreateSecret(configured: string | null, dataDir: string, file: string): Buffer {
  if (configured) return Buffer.from(configured, 'base64');
  const p = path.join(dataDir, file);
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    return Buffer.from(fs.readFileSync(p, 'utf8').trim(), 'base64');
  } catch {
    const key = randomBytes(32);
    // wx: two processes starting at once must not overwrite each other's key.
    try {
      fs.writeFileSync(p, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
      return key;
    } catch {
      return Buffer.from(fs.readFileSync(p, 'utf8').trim(), 'base64');
    }
  }
}
