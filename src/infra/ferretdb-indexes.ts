/**
 * The indexes FerretDB's PostgreSQL backend needs and cannot make itself. FerretDB pushes a top-level
 * equality down as `_jsonb->'f' @> v`, which its own btree indexes cannot serve; a GIN index on the same
 * expression can (FERRETDB.md). They are made with `fastupdate = off`: with PostgreSQL's default, inserts
 * go to a pending list (up to `gin_pending_list_limit`, 4 MB) that every lookup reads through until a vacuum
 * folds it in, so while a sale inserts orders and ledger entries each order-status read or receipt got slower
 * with every insert since the last vacuum (1.5 → 3.0 ms at 40,000 pending orders, 1.3 → 5.2 ms after a bulk
 * load). Each row has one key per index here, so inserting straight into the index costs about the same.
 * `scripts/stack` installs an event trigger that creates these on each collection's table as FerretDB creates
 * it, in every database (tests use one each), so the service never needs PostgreSQL access. MongoDB gets
 * ordinary indexes from the mongoose models instead.
 */
export const FERRETDB_GIN: Readonly<Record<string, readonly string[]>> = {
  // entry by key (duplicate check), an order's entries, a block's entries, a day's entries
  ledger: ['_id', 'orderId', 'blockKey', 'dayKey'],
  // block docs, Merkle nodes and chain heads are read by _id only
  ledger_tree: ['_id'],
  // a charity's month balances (scope), one month's day balances (scope), or one balance by _id
  ledger_periods: ['_id', 'scope'],
  // one order's versions (GET /orders/:id after Redis lost it)
  orders: ['_id', 'orderId'],
  // pledge agreements: by _id, a host's (by status), a charity's (by status), a host's with one charity (overlap check)
  agreements: ['_id', 'hostId', 'charityId', 'status'],
  // remittances: by _id, a charity's (public view), an agreement's (receipts)
  remittances: ['_id', 'charityId', 'agreementId'],
  // statements produced on schedule: one by _id (produced yet?), a charity's list (its public head)
  published_statements: ['_id', 'charityId'],
  // catalog documents are read by _id; a host's products and streams by hostId
  charities: ['_id'], hosts: ['_id'], viewers: ['_id'], products: ['_id', 'hostId'], streams: ['_id', 'hostId'], matches: ['_id'],
  // a token by its hash; the deployment marker
  principals: ['_id'], recovery: ['_id'],
  // payments: a merchant by _id or by the account a bill names; one merchant's payments and refunds of one day
  merchants: ['_id', 'provider', 'billAccount'], provider_payments: ['_id', 'merchantId', 'day'], provider_refunds: ['_id', 'merchantId', 'day'],
};

/** The SQL that makes PostgreSQL create those indexes whenever FerretDB creates a collection's table (and on existing ones). */
export function ferretdbGinSql(): string {
  const rows = Object.entries(FERRETDB_GIN).flatMap(([c, fs]) => fs.map((f) => `('${c}', '${f}')`));
  return `SET client_min_messages = warning;
CREATE TABLE IF NOT EXISTS public.livegive_gin (collection text NOT NULL, field text NOT NULL, PRIMARY KEY (collection, field));
TRUNCATE public.livegive_gin;
INSERT INTO public.livegive_gin VALUES ${rows.join(', ')};
CREATE OR REPLACE FUNCTION public.livegive_gin_apply(sch text, tbl text) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE r record; idx text;
BEGIN
  -- FerretDB names a collection's table <collection>_<8 hex digits of a hash>
  FOR r IN SELECT field FROM public.livegive_gin WHERE collection = regexp_replace(tbl, '_[0-9a-f]{8}$', '') LOOP
    idx := 'lg_' || left(md5(tbl || '.' || r.field), 24);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb->%L) jsonb_path_ops) WITH (fastupdate = off)', idx, sch, tbl, r.field);
    -- indexes made before fastupdate was turned off: turn it off and fold their pending list in now
    IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = sch AND c.relname = idx AND NOT coalesce('fastupdate=off' = ANY (c.reloptions), false)) THEN
      EXECUTE format('ALTER INDEX %I.%I SET (fastupdate = off)', sch, idx);
      PERFORM gin_clean_pending_list(format('%I.%I', sch, idx)::regclass);
    END IF;
  END LOOP;
END $f$;
CREATE OR REPLACE FUNCTION public.livegive_gin_on_create() RETURNS event_trigger LANGUAGE plpgsql AS $f$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname, n.nspname FROM pg_event_trigger_ddl_commands() d JOIN pg_class c ON c.oid = d.objid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE d.command_tag = 'CREATE TABLE' AND c.relkind = 'r' LOOP
    PERFORM public.livegive_gin_apply(r.nspname, r.relname);
  END LOOP;
END $f$;
DROP EVENT TRIGGER IF EXISTS livegive_gin;
CREATE EVENT TRIGGER livegive_gin ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION public.livegive_gin_on_create();
SELECT public.livegive_gin_apply(table_schema, table_name) FROM information_schema.tables
 WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema', 'public');
`;
}
