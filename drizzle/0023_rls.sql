-- Row-level security as a second wall behind every query's own tenant_id filter (issue 11, point 7).
-- Tenant-scoped work runs as stockclerk_app (entered with SET LOCAL ROLE inside its transaction,
-- src/db/tenant-tx.ts) and sees only the rows of the tenant named by the transaction's
-- app.tenant_id setting; with the setting missing or empty it sees nothing (fail closed).
-- The connecting role (superuser on the embedded default, the owner of these tables on an external
-- DATABASE_URL) bypasses RLS and stays the explicit path for cross-tenant system work.
--
-- Roles are cluster-wide: every database of the cluster (test clones, bench databases) shares it.
DO $$
DECLARE can_set boolean;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stockclerk_app') THEN
    CREATE ROLE stockclerk_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
  END IF;
  -- SET ROLE needs membership with the SET option; a superuser has it implicitly, a table owner with
  -- CREATEROLE gets it here. PostgreSQL 16 gives a role's creator ADMIN but not SET, and knows the
  -- 'SET' privilege name; 15 and older know only MEMBER.
  BEGIN
    can_set := pg_has_role(current_user, 'stockclerk_app', 'SET');
  EXCEPTION WHEN invalid_parameter_value THEN
    can_set := pg_has_role(current_user, 'stockclerk_app', 'MEMBER');
  END;
  IF NOT can_set THEN
    EXECUTE format('GRANT stockclerk_app TO %I', current_user);
  END IF;
END $$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO stockclerk_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO stockclerk_app;
--> statement-breakpoint
-- Every table carrying tenant_id: RLS on, one policy for the app role. A table added later needs the
-- same three statements (test/db/rls.test.ts fails until it has them).
DO $$
DECLARE t text;
BEGIN
  FOR t IN
    SELECT c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO stockclerk_app', t);
    EXECUTE format(
      $p$CREATE POLICY tenant_isolation ON %I TO stockclerk_app
         USING (tenant_id = current_setting('app.tenant_id', true))
         WITH CHECK (tenant_id = current_setting('app.tenant_id', true))$p$, t);
  END LOOP;
END $$;
--> statement-breakpoint
-- The ledger and the audit log are append-only (invariant 1): the app role may not rewrite them.
-- Retention prunes old audit rows on the system path.
REVOKE UPDATE, DELETE ON stock_movements, audit_log FROM stockclerk_app;
--> statement-breakpoint
-- The tenant row itself: the app role reads and updates its own (plan, settings); sign-up creates
-- tenants on the system path.
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, UPDATE ON tenants TO stockclerk_app;
--> statement-breakpoint
CREATE POLICY tenant_isolation ON tenants TO stockclerk_app
  USING (id = current_setting('app.tenant_id', true))
  WITH CHECK (id = current_setting('app.tenant_id', true));
--> statement-breakpoint
-- Transactions signal later work through the outbox; only the relay (system path) reads it back.
-- The key column alone is readable: ON CONFLICT (key) needs it to find the conflicting row.
GRANT INSERT, SELECT (key) ON job_outbox TO stockclerk_app;
--> statement-breakpoint
-- One account per email across tenants: a question a tenant transaction cannot ask of users (the
-- policy shows it one tenant). This function answers that question and nothing else, with the
-- owner's rights (services/accounts.ts emailInUse). The unique index users_email_key backs it.
CREATE FUNCTION account_email_exists(address text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $f$ SELECT EXISTS (SELECT 1 FROM public.users WHERE lower(email) = lower(address)) $f$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION account_email_exists(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION account_email_exists(text) TO stockclerk_app;
