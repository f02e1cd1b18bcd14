ALTER TABLE "channels" ADD COLUMN "rate_tokens" double precision;--> statement-breakpoint
ALTER TABLE "channels" ADD COLUMN "rate_at" timestamp with time zone;