CREATE TABLE "item_components" (
	"tenant_id" text NOT NULL,
	"kit_item_id" text NOT NULL,
	"component_item_id" text NOT NULL,
	"qty" integer NOT NULL,
	CONSTRAINT "item_components_tenant_id_kit_item_id_component_item_id_pk" PRIMARY KEY("tenant_id","kit_item_id","component_item_id")
);
--> statement-breakpoint
CREATE TABLE "purchase_order_lines" (
	"tenant_id" text NOT NULL,
	"purchase_order_id" text NOT NULL,
	"item_id" text NOT NULL,
	"location_id" text NOT NULL,
	"qty_ordered" integer NOT NULL,
	"qty_received" integer DEFAULT 0 NOT NULL,
	"unit_cost" double precision,
	CONSTRAINT "purchase_order_lines_tenant_id_purchase_order_id_item_id_location_id_pk" PRIMARY KEY("tenant_id","purchase_order_id","item_id","location_id")
);
--> statement-breakpoint
CREATE TABLE "purchase_orders" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"supplier" text,
	"reference" text,
	"status" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "purchase_orders_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "transfer_lines" (
	"tenant_id" text NOT NULL,
	"transfer_id" text NOT NULL,
	"item_id" text NOT NULL,
	"qty" integer NOT NULL,
	"received_qty" integer DEFAULT 0 NOT NULL,
	"returned_qty" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "transfer_lines_tenant_id_transfer_id_item_id_pk" PRIMARY KEY("tenant_id","transfer_id","item_id")
);
--> statement-breakpoint
CREATE TABLE "transfers" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"from_location_id" text NOT NULL,
	"to_location_id" text NOT NULL,
	"reference" text,
	"status" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "transfers_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "item_components" ADD CONSTRAINT "item_components_tenant_id_kit_item_id_items_tenant_id_id_fk" FOREIGN KEY ("tenant_id","kit_item_id") REFERENCES "public"."items"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "item_components" ADD CONSTRAINT "item_components_tenant_id_component_item_id_items_tenant_id_id_fk" FOREIGN KEY ("tenant_id","component_item_id") REFERENCES "public"."items"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_order_lines" ADD CONSTRAINT "purchase_order_lines_tenant_id_purchase_order_id_purchase_orders_tenant_id_id_fk" FOREIGN KEY ("tenant_id","purchase_order_id") REFERENCES "public"."purchase_orders"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_order_lines" ADD CONSTRAINT "purchase_order_lines_tenant_id_item_id_items_tenant_id_id_fk" FOREIGN KEY ("tenant_id","item_id") REFERENCES "public"."items"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_order_lines" ADD CONSTRAINT "purchase_order_lines_tenant_id_location_id_locations_tenant_id_id_fk" FOREIGN KEY ("tenant_id","location_id") REFERENCES "public"."locations"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "purchase_orders" ADD CONSTRAINT "purchase_orders_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfer_lines" ADD CONSTRAINT "transfer_lines_tenant_id_transfer_id_transfers_tenant_id_id_fk" FOREIGN KEY ("tenant_id","transfer_id") REFERENCES "public"."transfers"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfer_lines" ADD CONSTRAINT "transfer_lines_tenant_id_item_id_items_tenant_id_id_fk" FOREIGN KEY ("tenant_id","item_id") REFERENCES "public"."items"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_tenant_id_from_location_id_locations_tenant_id_id_fk" FOREIGN KEY ("tenant_id","from_location_id") REFERENCES "public"."locations"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_tenant_id_to_location_id_locations_tenant_id_id_fk" FOREIGN KEY ("tenant_id","to_location_id") REFERENCES "public"."locations"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "item_components_component_idx" ON "item_components" USING btree ("tenant_id","component_item_id");--> statement-breakpoint
CREATE INDEX "purchase_order_lines_level_idx" ON "purchase_order_lines" USING btree ("tenant_id","item_id","location_id");