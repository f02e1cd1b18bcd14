CREATE TABLE "conflicts" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"channel_id" text NOT NULL,
	"product_id" text NOT NULL,
	"publication_id" text,
	"field" text NOT NULL,
	"master_value" jsonb,
	"platform_value" jsonb,
	"status" text DEFAULT 'open' NOT NULL,
	"resolution" text,
	"resolved_value" jsonb,
	"resolved_by" text,
	"detected_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	CONSTRAINT "conflicts_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "publication_events" (
	"tenant_id" text NOT NULL,
	"id" bigserial NOT NULL,
	"publication_id" text NOT NULL,
	"action" text NOT NULL,
	"state" text NOT NULL,
	"requests" integer DEFAULT 0 NOT NULL,
	"error" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "publication_events_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "publication_jobs" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"action" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"total" integer NOT NULL,
	"done" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "publication_jobs_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "publications" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"product_id" text NOT NULL,
	"channel_id" text NOT NULL,
	"state" text DEFAULT 'draft' NOT NULL,
	"action" text,
	"job_id" text,
	"external_id" text,
	"refs" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"sent" jsonb,
	"step" integer DEFAULT 0 NOT NULL,
	"captured" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "publications_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "job_outbox" ADD COLUMN "priority" integer;--> statement-breakpoint
ALTER TABLE "publications" ADD CONSTRAINT "publications_tenant_id_product_id_products_tenant_id_id_fk" FOREIGN KEY ("tenant_id","product_id") REFERENCES "public"."products"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "publications" ADD CONSTRAINT "publications_tenant_id_channel_id_channels_tenant_id_id_fk" FOREIGN KEY ("tenant_id","channel_id") REFERENCES "public"."channels"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "conflicts_open_field" ON "conflicts" USING btree ("tenant_id","channel_id","product_id","field") WHERE status = 'open';--> statement-breakpoint
CREATE INDEX "conflicts_status_idx" ON "conflicts" USING btree ("tenant_id","status","detected_at");--> statement-breakpoint
CREATE INDEX "publication_events_pub_idx" ON "publication_events" USING btree ("tenant_id","publication_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "publications_product_channel" ON "publications" USING btree ("tenant_id","product_id","channel_id");--> statement-breakpoint
CREATE INDEX "publications_channel_idx" ON "publications" USING btree ("tenant_id","channel_id","state");--> statement-breakpoint
-- Row-level security, as 0023_rls does for every tenant table.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['publications', 'publication_events', 'publication_jobs', 'conflicts'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO stockclerk_app', t);
    EXECUTE format(
      $p$CREATE POLICY tenant_isolation ON %I TO stockclerk_app
         USING (tenant_id = current_setting('app.tenant_id', true))
         WITH CHECK (tenant_id = current_setting('app.tenant_id', true))$p$, t);
  END LOOP;
END $$;--> statement-breakpoint
GRANT USAGE, SELECT ON SEQUENCE publication_events_id_seq TO stockclerk_app;
