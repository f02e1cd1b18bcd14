CREATE TABLE "product_images" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"product_id" text NOT NULL,
	"position" integer NOT NULL,
	"storage_key" text NOT NULL,
	"content_type" text NOT NULL,
	"bytes" integer NOT NULL,
	"sha256" text NOT NULL,
	"alt" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "product_images_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "product_overrides" (
	"tenant_id" text NOT NULL,
	"product_id" text NOT NULL,
	"channel_id" text NOT NULL,
	"title" text,
	"description" text,
	"price" jsonb,
	"image_ids" text[],
	"category_id" text,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "product_overrides_tenant_id_product_id_channel_id_pk" PRIMARY KEY("tenant_id","product_id","channel_id")
);
--> statement-breakpoint
CREATE TABLE "products" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"brand" text,
	"category" text,
	"price_minor" bigint,
	"currency" text DEFAULT 'GBP' NOT NULL,
	"weight_g" integer,
	"length_mm" integer,
	"width_mm" integer,
	"height_mm" integer,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"options" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "products_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "items" ADD COLUMN "product_id" text;--> statement-breakpoint
ALTER TABLE "items" ADD COLUMN "option_values" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "items" ADD COLUMN "price_minor" bigint;--> statement-breakpoint
ALTER TABLE "product_images" ADD CONSTRAINT "product_images_tenant_id_product_id_products_tenant_id_id_fk" FOREIGN KEY ("tenant_id","product_id") REFERENCES "public"."products"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "product_overrides" ADD CONSTRAINT "product_overrides_tenant_id_product_id_products_tenant_id_id_fk" FOREIGN KEY ("tenant_id","product_id") REFERENCES "public"."products"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "product_overrides" ADD CONSTRAINT "product_overrides_tenant_id_channel_id_channels_tenant_id_id_fk" FOREIGN KEY ("tenant_id","channel_id") REFERENCES "public"."channels"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "product_images_product_idx" ON "product_images" USING btree ("tenant_id","product_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "product_images_storage_key" ON "product_images" USING btree ("storage_key");--> statement-breakpoint
CREATE INDEX "products_title_idx" ON "products" USING btree ("tenant_id","title");--> statement-breakpoint
CREATE INDEX "items_product_idx" ON "items" USING btree ("tenant_id","product_id");--> statement-breakpoint
-- Every existing item becomes a single-variant product of its own (same id suffix: prd_<item's>).
INSERT INTO "products" ("tenant_id", "id", "title", "created_at", "updated_at")
  SELECT "tenant_id", 'prd_' || substr("id", strpos("id", '_') + 1), "name", "created_at", "created_at" FROM "items";--> statement-breakpoint
UPDATE "items" SET "product_id" = 'prd_' || substr("id", strpos("id", '_') + 1);--> statement-breakpoint
ALTER TABLE "items" ADD CONSTRAINT "items_product_fk" FOREIGN KEY ("tenant_id", "product_id") REFERENCES "public"."products"("tenant_id", "id");--> statement-breakpoint
-- An item inserted without a product (the items API, CSV import, the demo: every path that
-- predates the catalog) gets a single-variant product of its own, named like it.
CREATE FUNCTION items_own_product() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.product_id IS NULL THEN
    NEW.product_id := 'prd_' || substr(NEW.id, strpos(NEW.id, '_') + 1);
    INSERT INTO products (tenant_id, id, title) VALUES (NEW.tenant_id, NEW.product_id, NEW.name) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER items_own_product BEFORE INSERT ON "items" FOR EACH ROW EXECUTE FUNCTION items_own_product();--> statement-breakpoint
-- Row-level security, as 0023_rls does for every tenant table.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['products', 'product_images', 'product_overrides'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO stockclerk_app', t);
    EXECUTE format(
      $p$CREATE POLICY tenant_isolation ON %I TO stockclerk_app
         USING (tenant_id = current_setting('app.tenant_id', true))
         WITH CHECK (tenant_id = current_setting('app.tenant_id', true))$p$, t);
  END LOOP;
END $$;
