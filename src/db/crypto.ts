// Channel credentials at rest: AES-256-GCM, random 96-bit IV per value, key from config or
// generated once into DATA_DIR (mode 0600). Stored as "v1.<iv>.<tag>.<ciphertext>" (base64url).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export class Sealer {
  private readonly key: Buffer;
  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('encryption key must be 32 bytes (base64 in ENCRYPTION_KEY)');
    this.key = key;
  }

  seal(plain: unknown): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([c.update(JSON.stringify(plain), 'utf8'), c.final()]);
    return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  open<T = Record<string, string>>(sealed: string): T {
    const [v, iv, tag, ct] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unreadable sealed value');
    const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return JSON.parse(Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8')) as T;
  }
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
