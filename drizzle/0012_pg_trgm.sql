-- Trigram indexes make item search (ILIKE '%...%' on SKU, name and barcode) an index lookup
-- instead of a scan of every item of the tenant (see 0013). pg_trgm ships with PostgreSQL's
-- contrib (in embedded-postgres too); on a managed server it may need to be allowed first.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
