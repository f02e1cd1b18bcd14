// Where product images' bytes live. One small interface, so an object store (S3, GCS) can replace
// the disk without the catalog noticing; the default keeps them under DATA_DIR/images.
// Keys are unguessable (they are also the public URL: marketplaces fetch images by URL, without
// our credentials), content-addressed per upload, and never reused.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface ImageStore {
  put(key: string, data: Buffer): Promise<void>;
  /** The bytes, or null when the key holds nothing. */
  get(key: string): Promise<Buffer | null>;
  delete(key: string): Promise<void>;
}

const KEY = /^[a-z0-9]{2}\/[a-z0-9]{40,80}\.(jpg|png|webp|gif)$/;

/** Images on the local disk: `<root>/<first two of key>/<rest>`. Writes are atomic (rename). */
export class DiskImageStore implements ImageStore {
  private readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  private file(key: string): string {
    if (!KEY.test(key)) throw new Error(`not an image key: ${key}`);
    return path.join(this.root, key);
  }

  async put(key: string, data: Buffer): Promise<void> {
    const file = this.file(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  }

  async get(key: string): Promise<Buffer | null> {
    if (!KEY.test(key)) return null;
    return fs.readFile(this.file(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }
}

export const IMAGE_TYPES = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif' } as const;
export type ImageExt = keyof typeof IMAGE_TYPES;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

/**
 * What an upload is, from its first bytes (never from the client's Content-Type or file name):
 * JPEG, PNG, WebP or GIF; anything else is null.
 */
export function sniffImage(b: Buffer): ImageExt | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpg';
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (b.length >= 6 && /^GIF8[79]a$/.test(b.toString('latin1', 0, 6))) return 'gif';
  return null;
}

/** A fresh key for an upload: its hash (a duplicate upload is recognisable) plus randomness (never reused). */
export function imageKey(data: Buffer, ext: ImageExt): { key: string; sha256: string } {
  const sha256 = createHash('sha256').update(data).digest('hex');
  const name = sha256.slice(0, 32) + randomBytes(8).toString('hex');
  return { key: `${name.slice(0, 2)}/${name.slice(2)}.${ext}`, sha256 };
}
