// Vinted's memory: members (sellers), their sessions, items, uploaded photos and sold orders, the
// id counters, and the JSON each of them answers with on the wire (docs/extension-protocol.md
// section 2). Kept in the kit's state file when one is given (photo bytes in a directory beside
// it, so the JSON stays small), in memory otherwise.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StateFile } from '../kit/state.ts';

export const PLATFORM = 'vinted';
const FORMAT = 1;

export interface Photo {
  id: number;
  userId: number;
  tempUuid: string | null;
  /** The path it is served at (under the emulator's origin). */
  path: string;
  mime: string;
  bytes: number;
}

export interface Item {
  id: number;
  userId: number;
  title: string;
  description: string;
  brand: string | null;
  size: string | null;
  statusId: number | null;
  /** Major units, as the upload body sends it (12.5 = £12.50). */
  price: number;
  currency: string;
  photoIds: number[];
  isHidden: boolean;
  /** Sold (by a buyer or marked sold by the seller): closed for buying. */
  isClosed: boolean;
  isReserved: boolean;
  /** Deleted by the seller: gone from every answer, 404 for every call. */
  deleted: boolean;
  uploadSessionId: string | null;
  tempUuid: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface Order {
  transactionId: number;
  itemId: number;
  title: string;
  price: number;
  currency: string;
  status: string;
  date: number;
}

export interface Member {
  id: number;
  login: string;
  password: string;
  items: Item[];
  orders: Order[];
  /** upload_session_id -> the item that upload created (same id again answers that item). */
  uploads: Record<string, number>;
}

export interface Session {
  value: string;
  login: string;
  csrf: string;
  createdAt: number;
}

interface Saved {
  format: number;
  platform: string;
  savedAt: string;
  members: Member[];
  sessions: Session[];
  photos: Photo[];
  seq: Seq;
}

interface Seq {
  user: number;
  item: number;
  photo: number;
  transaction: number;
}

// GUESS: id ranges. Vinted's ids are plain increasing integers (user ids ~8-9 digits, item ids
// ~10 digits in public URLs); any increasing integers serve a client.
const FIRST: Seq = { user: 180_000_001, item: 4_100_000_001, photo: 21_000_000_001, transaction: 9_800_000_001 };

export const nowMs = (): number => Date.now();
const token = (n: number) => randomBytes(n).toString('base64url');

export class VintedStore {
  readonly members = new Map<string, Member>();
  readonly sessions = new Map<string, Session>();
  readonly photos = new Map<number, Photo>();
  private readonly photoBytes = new Map<number, Buffer>();
  private seq: Seq = { ...FIRST };
  readonly file: StateFile | null;
  private readonly photoDir: string | null;

  constructor(stateFile: string | null, saveDelayMs?: number) {
    this.file = stateFile ? new StateFile(stateFile, () => this.snapshot(), saveDelayMs) : null;
    this.photoDir = this.file ? `${this.file.path}.photos` : null;
    if (this.file) this.restore(this.file.read());
  }

  /** Something changed: save soon. */
  touch(): void {
    this.file?.touch();
  }

  async flush(): Promise<void> {
    await this.file?.flush();
  }

  reset(): void {
    this.members.clear();
    this.sessions.clear();
    this.photos.clear();
    this.photoBytes.clear();
    this.seq = { ...FIRST };
    this.touch();
  }

  // ---- members and sessions ------------------------------------------------------------------
  addMember(login: string, password: string): Member {
    const m: Member = { id: this.seq.user++, login, password, items: [], orders: [], uploads: {} };
    this.members.set(login, m);
    // A replaced member's sessions belong to the old one.
    for (const [v, s] of this.sessions) if (s.login === login) this.sessions.delete(v);
    this.touch();
    return m;
  }

  memberById(id: number): Member | undefined {
    for (const m of this.members.values()) if (m.id === id) return m;
    return undefined;
  }

  openSession(login: string): Session {
    const s: Session = { value: token(32), login, csrf: token(24), createdAt: nowMs() };
    this.sessions.set(s.value, s);
    this.touch();
    return s;
  }

  /** Ends every session of a member (they are logged out everywhere). Returns how many. */
  closeSessions(login: string): number {
    let n = 0;
    for (const [v, s] of this.sessions) if (s.login === login && this.sessions.delete(v)) n++;
    this.touch();
    return n;
  }

  // ---- items ---------------------------------------------------------------------------------
  newItem(m: Member, fields: Omit<Item, 'id' | 'userId' | 'createdAt' | 'updatedAt' | 'deleted' | 'isClosed' | 'isReserved'>): Item {
    const t = nowMs();
    const item: Item = { id: this.seq.item++, userId: m.id, ...fields, isClosed: false, isReserved: false, deleted: false, createdAt: t, updatedAt: t };
    m.items.push(item);
    this.touch();
    return item;
  }

  /** A member's item that still exists. */
  item(m: Member, id: number): Item | undefined {
    return m.items.find((i) => i.id === id && !i.deleted);
  }

  newOrder(m: Member, item: Item, status: string): Order {
    const o: Order = {
      transactionId: this.seq.transaction++,
      itemId: item.id,
      title: item.title,
      price: item.price,
      currency: item.currency,
      status,
      date: nowMs(),
    };
    m.orders.push(o);
    this.touch();
    return o;
  }

  // ---- photos --------------------------------------------------------------------------------
  addPhoto(userId: number, tempUuid: string | null, mime: string, bytes: Buffer): Photo {
    const id = this.seq.photo++;
    const ext = mime === 'image/png' ? 'png' : mime === 'image/webp' ? 'webp' : 'jpg';
    // GUESS: photos are served from the marketplace origin (Vinted's come from a CDN host,
    // images1.vinted.net); the path carries a random part like a CDN's.
    const p: Photo = { id, userId, tempUuid, path: `/photos/${id}/${token(9)}.${ext}`, mime, bytes: bytes.length };
    this.photos.set(id, p);
    this.photoBytes.set(id, bytes);
    if (this.photoDir) {
      fs.mkdirSync(this.photoDir, { recursive: true });
      fs.writeFileSync(path.join(this.photoDir, String(id)), bytes);
    }
    this.touch();
    return p;
  }

  photoData(p: Photo): Buffer | null {
    const mem = this.photoBytes.get(p.id);
    if (mem) return mem;
    if (!this.photoDir) return null;
    try {
      const b = fs.readFileSync(path.join(this.photoDir, String(p.id)));
      this.photoBytes.set(p.id, b);
      return b;
    } catch {
      return null;
    }
  }

  // ---- state file ----------------------------------------------------------------------------
  private snapshot(): Saved {
    return {
      format: FORMAT,
      platform: PLATFORM,
      savedAt: new Date().toISOString(),
      members: [...this.members.values()],
      sessions: [...this.sessions.values()],
      photos: [...this.photos.values()],
      seq: this.seq,
    };
  }

  private restore(raw: unknown): void {
    if (raw === null) return;
    const s = raw as Partial<Saved>;
    const where = this.file?.path ?? 'state';
    // Someone else's file at this path is a configuration mistake, not something to overwrite.
    if (s.platform !== PLATFORM) throw new Error(`${where} holds ${String(s.platform)} state, not ${PLATFORM}`);
    if (s.format !== FORMAT || !Array.isArray(s.members)) throw new Error(`${where}: unknown state format ${String(s.format)}`);
    for (const m of s.members) this.members.set(m.login, m);
    for (const x of s.sessions ?? []) this.sessions.set(x.value, x);
    for (const p of s.photos ?? []) this.photos.set(p.id, p);
    if (s.seq) this.seq = { ...FIRST, ...s.seq };
  }
}

// ---- wire shapes (section 2) -------------------------------------------------------------------

/** Amounts as Vinted writes them: a decimal string without trailing zeros ("12.5"). */
export const amount = (n: number): string => String(Math.round(n * 100) / 100);
export const unixSec = (ms: number): number => Math.floor(ms / 1000);

function slug(title: string): string {
  const s = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return s.slice(0, 60) || 'item';
}

export const itemPath = (i: Item): string => `/items/${i.id}-${slug(i.title)}`;

/** The `status` StockClerk's jobs speak of (section 1's read_listings), for the control API. */
export function statusOf(i: Item): 'active' | 'hidden' | 'reserved' | 'sold' {
  if (i.isClosed) return 'sold';
  if (i.isReserved) return 'reserved';
  if (i.isHidden) return 'hidden';
  return 'active';
}

export function itemJson(origin: string, i: Item, photos: Map<number, Photo>): Record<string, unknown> {
  return {
    id: i.id,
    title: i.title,
    description: i.description,
    brand: i.brand,
    size: i.size,
    status_id: i.statusId,
    price: { amount: amount(i.price), currency_code: i.currency },
    url: `${origin}${itemPath(i)}`,
    photos: i.photoIds.flatMap((id) => {
      const p = photos.get(id);
      return p ? [{ id: p.id, url: `${origin}${p.path}` }] : [];
    }),
    user_id: i.userId,
    is_hidden: i.isHidden,
    is_closed: i.isClosed,
    is_reserved: i.isReserved,
    // GUESS: unix seconds (the `_ts` suffix; section 2 gives no example value).
    created_at_ts: unixSec(i.createdAt),
    updated_at_ts: unixSec(i.updatedAt),
  };
}

export function orderJson(o: Order): Record<string, unknown> {
  return {
    transaction_id: o.transactionId,
    item_id: o.itemId,
    title: o.title,
    price: { amount: amount(o.price), currency_code: o.currency },
    status: o.status,
    // GUESS: ISO 8601 in UTC (section 2 names the field only).
    date: new Date(o.date).toISOString(),
  };
}

/** Page `page` (1-based) of `all`, with Vinted's pagination block. */
export function paginate<T>(all: T[], page: number, perPage: number): { rows: T[]; pagination: Record<string, number> } {
  const total = all.length;
  return {
    rows: all.slice((page - 1) * perPage, page * perPage),
    pagination: { current_page: page, total_pages: Math.ceil(total / perPage), total_entries: total, per_page: perPage },
  };
}
