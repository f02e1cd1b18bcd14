// Ids are opaque strings with a type prefix (item_..., loc_..., ch_...) over a UUIDv7, so a wrong
// id is obvious in a log and ids sort by creation time.
import { uuidv7 } from 'uuidv7';

export type IdPrefix =
  | 'ten'
  | 'usr'
  | 'loc'
  | 'item'
  | 'ch'
  | 'lst'
  | 'alr'
  | 'key'
  | 'pkey'
  | 'so'
  | 'res'
  | 'trf'
  | 'po'
  | 'whe'
  | 'whd'
  | 'evt'
  | 'job'
  | 'ses'
  | 'inv'
  | 'enq'
  | 'imp'
  | 'prd'
  | 'img'
  | 'pub'
  | 'pbj'
  | 'cfl'
  | 'srl'
  | 'xtk'
  | 'xj';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${uuidv7().replaceAll('-', '')}`;
}

export function hasPrefix(id: string, prefix: IdPrefix): boolean {
  return id.startsWith(prefix + '_') && id.length > prefix.length + 1;
}
