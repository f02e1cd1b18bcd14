ALTER TABLE "channels" ADD COLUMN "push_cursor_xmax" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "push_cursor_xip" bigint[] DEFAULT '{}'::bigint[] NOT NULL;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "rate_tokens" double precision;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "rate_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "job_outbox" ADD COLUMN "job_key" text;