// One StockClerk job, run against Vinted (docs/extension-protocol.md): each kind is the few Vinted
// calls requests.ts builds, and each is idempotent so that a job sent again changes nothing more:
// a publish reuses its upload_session_id (derived from the job id), a delete of a gone item is a
// success, hiding a hidden item or marking a sold item sold again is the same end state (and
// hiding a sold item: it is off sale already).
import { JobFailure, type Job } from '../protocol.ts';
import { uploadIdsFor } from '../uuid.ts';
import type { VintedClient } from './client.ts';
import {
  deleteRequest,
  hasMore,
  isoOf,
  itemIdOf,
  listingOf,
  markSoldRequest,
  ordersRequest,
  ORDERS_PER_PAGE,
  photosOf,
  publishRequest,
  publishResult,
  saleOf,
  updateRequests,
  wardrobeRequest,
  WARDROBE_PER_PAGE,
  type Pagination,
  type VintedItem,
  type VintedOrder,
} from './requests.ts';

export interface JobDeps {
  vinted: VintedClient;
  /** Downloads a photo from the paired StockClerk (through the origin guard). */
  fetchPhoto(url: string): Promise<Blob>;
}

async function sessionUser(vinted: VintedClient) {
  const user = await vinted.currentUser();
  if (!user) throw new JobFailure('session', 'Not logged in to Vinted in this browser');
  return user;
}

async function publish(job: Job, { vinted, fetchPhoto }: JobDeps) {
  const photos = photosOf(job.payload);
  const ids = await uploadIdsFor(job.id);
  const photoIds: number[] = [];
  for (const [i, url] of photos.entries()) {
    const blob = await fetchPhoto(url);
    const ext = (blob.type.split('/')[1] ?? 'jpg').replace('jpeg', 'jpg');
    photoIds.push(await vinted.uploadPhoto(blob, await ids.photoUuid(i), `photo-${i + 1}.${ext}`));
  }
  const answer = await vinted.send(publishRequest(job.payload, photoIds, ids));
  return publishResult(answer, vinted.origin);
}

async function update(job: Job, { vinted }: JobDeps) {
  const id = itemIdOf(job.payload);
  for (const req of updateRequests(job.payload)) {
    try {
      await vinted.send(req);
    } catch (err) {
      // Vinted refuses to hide an item a buyer has bought, yet what the hide wants (the item off
      // sale) is so: done, as a delete of a gone item is. StockClerk hides an item whenever its
      // stock reaches 0, so every sale on Vinted is followed by this hide; refused, each sale left
      // a failed job (and the seller an error) behind.
      const hide = req.path.endsWith('/is_hidden') && job.payload.hidden === true;
      if (hide && err instanceof JobFailure && err.kind === 'rejected' && (await wardrobe(vinted)).some((l) => l.item_id === id && l.status === 'sold'))
        continue;
      throw err;
    }
  }
  return { item_id: id };
}

async function remove(job: Job, { vinted }: JobDeps) {
  try {
    await vinted.send(deleteRequest(job.payload));
  } catch (err) {
    // Already gone is what a delete wants: the same answer as the first time.
    if (!(err instanceof JobFailure && err.kind === 'not_found')) throw err;
  }
  return { item_id: itemIdOf(job.payload) };
}

async function markSold(job: Job, { vinted }: JobDeps) {
  await vinted.send(markSoldRequest(job.payload));
  return { item_id: itemIdOf(job.payload) };
}

/** Every item of the seller's wardrobe, as listings. */
async function wardrobe(vinted: VintedClient) {
  const user = await sessionUser(vinted);
  const listings = [];
  for (let page = 1; ; page++) {
    const body = (await vinted.send(wardrobeRequest(user.id, page))) as { items?: VintedItem[]; pagination?: Pagination } | null;
    const items = body?.items ?? [];
    listings.push(...items.map(listingOf));
    if (!hasMore(body?.pagination, page, items.length, WARDROBE_PER_PAGE)) break;
  }
  return listings;
}

async function readListings(_job: Job, { vinted }: JobDeps) {
  return { listings: await wardrobe(vinted) };
}

async function readSales(job: Job, { vinted }: JobDeps) {
  const since = isoOf(job.payload.since);
  const sales = [];
  for (let page = 1; ; page++) {
    const body = (await vinted.send(ordersRequest(page))) as { my_orders?: VintedOrder[]; pagination?: Pagination } | null;
    const orders = (body?.my_orders ?? []).map(saleOf);
    // Newest first: once a page reaches back past `since`, older pages hold nothing new.
    const fresh = since ? orders.filter((o) => !o.sold_at || o.sold_at >= since) : orders;
    sales.push(...fresh);
    if (fresh.length < orders.length || !hasMore(body?.pagination, page, orders.length, ORDERS_PER_PAGE)) break;
  }
  return { sales };
}

const KINDS: Record<string, (job: Job, deps: JobDeps) => Promise<unknown>> = {
  publish,
  update,
  delete: remove,
  mark_sold: markSold,
  read_listings: readListings,
  read_sales: readSales,
};

/** Runs the job; resolves with its result or throws a JobFailure. */
export async function runJob(job: Job, deps: JobDeps): Promise<unknown> {
  const run = KINDS[job.kind];
  if (!run) throw new JobFailure('rejected', `this extension does not know the job kind "${job.kind}": update the extension`);
  return run(job, deps);
}
