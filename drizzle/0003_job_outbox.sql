CREATE TABLE "job_outbox" (
	"key" text PRIMARY KEY NOT NULL,
	"task" text NOT NULL,
	"payload" jsonb NOT NULL,
	"queue_name" text,
	"run_at" timestamp with time zone,
	"max_attempts" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "listings_dirty_idx";--> statement-breakpoint
-- Listings are rewritten on every stock change of their item: leave room on each page so those
-- updates stay HOT (no index touched), and let autovacuum keep up with the churn.
ALTER TABLE "listings" SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.05);
--> statement-breakpoint
ALTER TABLE "job_outbox" SET (autovacuum_vacuum_scale_factor = 0.01);
