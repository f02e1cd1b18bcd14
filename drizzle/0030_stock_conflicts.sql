DROP INDEX "conflicts_open_field";--> statement-breakpoint
ALTER TABLE "conflicts" ADD COLUMN "item_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "conflicts_open_field" ON "conflicts" USING btree ("tenant_id","channel_id","product_id","field",coalesce(item_id, '')) WHERE status = 'open';