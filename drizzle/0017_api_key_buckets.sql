-- UNLOGGED: a rate-limit take writes no WAL, so it never waits for a flush; a crash empties the
-- table and every key starts again with a full burst. (drizzle-kit does not model UNLOGGED: edited by hand.)
CREATE UNLOGGED TABLE "api_key_buckets" (
	"key_id" text PRIMARY KEY NOT NULL,
	"tokens" double precision NOT NULL,
	"taken_at" timestamp with time zone NOT NULL,
	"granted" boolean NOT NULL
);
