ALTER TABLE "listings" ADD COLUMN "push_in_doubt" integer[];--> statement-breakpoint
ALTER TABLE "listings" ADD COLUMN "push_in_doubt_at" timestamp with time zone;