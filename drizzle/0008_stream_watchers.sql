CREATE TABLE "stream_watchers" (
	"tenant_id" text NOT NULL,
	"process" text NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stream_watchers_tenant_id_process_pk" PRIMARY KEY("tenant_id","process")
);
--> statement-breakpoint
ALTER TABLE "stream_watchers" ADD CONSTRAINT "stream_watchers_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;