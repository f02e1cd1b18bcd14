ALTER TABLE "channels" ADD COLUMN "push_cursor" bigint DEFAULT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint) NOT NULL;--> statement-breakpoint
ALTER TABLE "stock_levels" ADD COLUMN "change_txid" bigint DEFAULT (pg_current_xact_id()::text::bigint) NOT NULL;--> statement-breakpoint
CREATE INDEX "listings_dirty_idx" ON "listings" USING btree ("tenant_id","channel_id") WHERE "listings"."dirty_seq" > "listings"."pushed_seq";--> statement-breakpoint
CREATE INDEX "stock_levels_change_idx" ON "stock_levels" USING btree ("tenant_id","change_txid");