CREATE TABLE "stock_alert_cursors" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"cursor" bigint DEFAULT 0 NOT NULL,
	"cursor_xmax" bigint DEFAULT 0 NOT NULL,
	"cursor_xip" bigint[] DEFAULT '{}'::bigint[] NOT NULL
);
--> statement-breakpoint
ALTER TABLE "stock_alert_cursors" ADD CONSTRAINT "stock_alert_cursors_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;