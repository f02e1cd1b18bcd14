CREATE TABLE "extension_jobs" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"channel_id" text NOT NULL,
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"awaited" boolean DEFAULT false NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"not_before" timestamp with time zone DEFAULT now() NOT NULL,
	"result" jsonb,
	"error" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"done_at" timestamp with time zone,
	"consumed_at" timestamp with time zone,
	CONSTRAINT "extension_jobs_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "extension_tokens" (
	"tenant_id" text NOT NULL,
	"id" text NOT NULL,
	"channel_id" text NOT NULL,
	"user_id" text,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"secret_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"connected_at" timestamp with time zone,
	"last_seen_at" timestamp with time zone,
	"status" jsonb,
	CONSTRAINT "extension_tokens_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "extension_jobs" ADD CONSTRAINT "extension_jobs_tenant_id_channel_id_channels_tenant_id_id_fk" FOREIGN KEY ("tenant_id","channel_id") REFERENCES "public"."channels"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "extension_tokens" ADD CONSTRAINT "extension_tokens_tenant_id_channel_id_channels_tenant_id_id_fk" FOREIGN KEY ("tenant_id","channel_id") REFERENCES "public"."channels"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "extension_jobs_open_key" ON "extension_jobs" USING btree ("tenant_id","channel_id","key") WHERE consumed_at is null;--> statement-breakpoint
CREATE INDEX "extension_jobs_queue_idx" ON "extension_jobs" USING btree ("tenant_id","channel_id","status","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "extension_tokens_secret_key" ON "extension_tokens" USING btree ("secret_hash");--> statement-breakpoint
CREATE INDEX "extension_tokens_channel_idx" ON "extension_tokens" USING btree ("tenant_id","channel_id");--> statement-breakpoint
-- Row-level security, as 0023_rls does for every tenant table.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['extension_tokens', 'extension_jobs'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO stockclerk_app', t);
    EXECUTE format(
      $p$CREATE POLICY tenant_isolation ON %I TO stockclerk_app
         USING (tenant_id = current_setting('app.tenant_id', true))
         WITH CHECK (tenant_id = current_setting('app.tenant_id', true))$p$, t);
  END LOOP;
END $$;
