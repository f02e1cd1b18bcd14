-- Item search over one trigram index on SKU, name and barcode joined by U+001F (src/db/item-search.ts),
-- instead of one index per column OR-ed together. A small pending list (256 kB, not 4 MB): new items
-- wait there until it fills, and every search reads it from end to end; after 100,000 new items a
-- search took 8-12 ms instead of 3-4. fastupdate=off cured that too, but made inserting 100,000
-- items 4.6 times slower (3.1 s -> 14.3 s); 256 kB costs 3.1 -> 3.9 s.
DROP INDEX "items_sku_trgm_idx";--> statement-breakpoint
DROP INDEX "items_name_trgm_idx";--> statement-breakpoint
DROP INDEX "items_barcode_trgm_idx";--> statement-breakpoint
CREATE INDEX "items_search_trgm_idx" ON "items" USING gin (("sku" || E'\x1f' || "name" || E'\x1f' || coalesce("barcode", '')) gin_trgm_ops) WITH (gin_pending_list_limit=256);--> statement-breakpoint
-- How common a pattern is, the planner reads from this expression's statistics: with the default 100
-- histogram entries it takes a pattern shared by 100 items for one shared by 1,000 and walks the items
-- in id order past tens of thousands of rows. 1,000 entries tell the two apart.
ALTER INDEX "items_search_trgm_idx" ALTER COLUMN 1 SET STATISTICS 1000;
