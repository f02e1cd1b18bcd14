CREATE TABLE "process_heartbeats" (
	"id" text PRIMARY KEY NOT NULL,
	"role" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	"rss_bytes" bigint NOT NULL,
	"heap_bytes" bigint NOT NULL,
	"jobs_total" bigint DEFAULT 0 NOT NULL,
	"jobs_failed" bigint DEFAULT 0 NOT NULL,
	"jobs_last_min" integer DEFAULT 0 NOT NULL,
	"job_ms_last_min" double precision,
	"latency_ms_last_min" double precision
);
