// The GraphQL object graph the emulator serves: Location, InventoryItem, InventoryLevel and its
// quantities, the cursor-paged InventoryLevelConnection, and the query root.
import { GqlError, type GqlObject } from './graphql.ts';
import { compareIds, LOCATION_GID, type Item, type ShopifyAccount } from './account.ts';

const ZERO_NAMES = new Set(['incoming', 'reserved', 'damaged', 'safety_stock', 'quality_control']);

export function locationObj(acc: ShopifyAccount): GqlObject {
  return {
    __typename: 'Location',
    id: LOCATION_GID,
    name: 'Shop location',
    inventoryLevels: (args: Record<string, unknown>) => levelConnection(acc, args),
    inventoryLevel: (args: Record<string, unknown>) => {
      const item = acc.byGid.get(String(args.inventoryItemId));
      return item ? levelObj(acc, item) : null;
    },
  };
}

export function itemObj(acc: ShopifyAccount, item: Item): GqlObject {
  return {
    __typename: 'InventoryItem',
    id: item.gid,
    sku: item.sku,
    tracked: true,
    variant: { __typename: 'ProductVariant', id: `gid://shopify/ProductVariant/${item.variantId}`, displayName: item.name, sku: item.sku },
    inventoryLevel: (args: Record<string, unknown>) => (args.locationId === LOCATION_GID ? levelObj(acc, item) : null),
  };
}

function levelObj(acc: ShopifyAccount, item: Item): GqlObject {
  return {
    __typename: 'InventoryLevel',
    id: `gid://shopify/InventoryLevel/${item.levelNum}?inventory_item_id=${item.num}`,
    updatedAt: item.updatedAt,
    item: () => itemObj(acc, item),
    location: () => locationObj(acc),
    quantities: (args: Record<string, unknown>) => {
      if (!Array.isArray(args.names)) throw new GqlError("Field 'quantities' is missing required arguments: names", { code: 'missingRequiredArguments' });
      return args.names.map((n) => ({ __typename: 'InventoryQuantity', name: n, quantity: quantityOf(item, String(n)), updatedAt: item.updatedAt }));
    },
  };
}

export function quantityOf(item: Item, name: string): number {
  if (name === 'available') return item.available;
  if (name === 'committed') return item.committed;
  if (name === 'on_hand') return item.available + item.committed;
  if (ZERO_NAMES.has(name)) return 0;
  throw new GqlError(`Invalid quantity name: ${name}`, { code: 'argumentLiteralsIncompatible' }); // GUESS: exact error text
}

function levelConnection(acc: ShopifyAccount, args: Record<string, unknown>): GqlObject {
  const first = args.first;
  if (typeof first !== 'number') throw new GqlError('you must provide one of first or last', { code: 'argumentLiteralsIncompatible' });
  if (first > 250) throw new GqlError('The first argument must be at most 250', { code: 'argumentLiteralsIncompatible' }); // GUESS: wording
  let start = 0;
  if (typeof args.after === 'string') {
    const after = Buffer.from(args.after, 'base64url').toString();
    if (!/^\d+$/.test(after)) throw new GqlError('Invalid cursor for current pagination sort.', { code: 'invalidCursor' }); // GUESS: code
    start = acc.items.findIndex((i) => compareIds(i.num, after) > 0);
    if (start < 0) start = acc.items.length;
  }
  const page = acc.items.slice(start, start + first);
  const cursor = (i: Item) => Buffer.from(String(i.num)).toString('base64url');
  const last = page[page.length - 1];
  return {
    __typename: 'InventoryLevelConnection',
    nodes: page.map((i) => levelObj(acc, i)),
    edges: page.map((i) => ({ __typename: 'InventoryLevelEdge', cursor: cursor(i), node: levelObj(acc, i) })),
    pageInfo: {
      __typename: 'PageInfo',
      hasNextPage: start + first < acc.items.length,
      hasPreviousPage: start > 0,
      startCursor: page[0] ? cursor(page[0]) : null,
      endCursor: last ? cursor(last) : null,
    },
  };
}

export function queryRoot(acc: ShopifyAccount): GqlObject {
  const node = (id: unknown): GqlObject | null => {
    if (id === LOCATION_GID) return locationObj(acc);
    const item = acc.byGid.get(String(id));
    return item ? itemObj(acc, item) : null;
  };
  return {
    __typename: 'QueryRoot',
    shop: { __typename: 'Shop', id: 'gid://shopify/Shop/1', name: acc.id, myshopifyDomain: acc.domain },
    location: (args: Record<string, unknown>) => (args.id === LOCATION_GID ? locationObj(acc) : null),
    inventoryItem: (args: Record<string, unknown>) => {
      const item = acc.byGid.get(String(args.id));
      if (!item && !String(args.id).startsWith('gid://shopify/InventoryItem/'))
        throw new GqlError('Invalid id: ' + String(args.id), { code: 'argumentLiteralsIncompatible' });
      return item ? itemObj(acc, item) : null;
    },
    node: (args: Record<string, unknown>) => node(args.id),
    nodes: (args: Record<string, unknown>) => {
      if (!Array.isArray(args.ids) || args.ids.length > 250) throw new GqlError('nodes(ids:) takes at most 250 ids', { code: 'MAX_INPUT_SIZE_EXCEEDED' }); // GUESS: wording
      return args.ids.map(node);
    },
  };
}
