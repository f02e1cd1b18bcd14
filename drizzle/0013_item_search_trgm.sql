CREATE INDEX "items_sku_trgm_idx" ON "items" USING gin ("sku" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "items_name_trgm_idx" ON "items" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "items_barcode_trgm_idx" ON "items" USING gin ("barcode" gin_trgm_ops);