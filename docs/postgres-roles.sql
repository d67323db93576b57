-- Least-privilege roles for a PostgreSQL warehouse. Run once, as an administrator, in the
-- warehouse database (`psql -d retail -f docs/postgres-roles.sql`); running it again is harmless.
--
--   retail_loader       dlt ingestion: creates and writes the bronze_* schemas
--   retail_transformer  dbt: reads bronze, owns silver, snapshots, reference, gold and audit
--   retail_reader       Power BI: reads gold only (dbt's `grants` config keeps its `select`
--                       across rebuilds when RETAIL_PG_READER_ROLE=retail_reader is set for dbt)
--
-- The roles are created without a password: set one with `\password retail_loader` (and the
-- others) where the server asks for passwords.

do $$
begin
    if not exists (select from pg_roles where rolname = 'retail_loader') then
        create role retail_loader login;
    end if;
    if not exists (select from pg_roles where rolname = 'retail_transformer') then
        create role retail_transformer login;
    end if;
    if not exists (select from pg_roles where rolname = 'retail_reader') then
        create role retail_reader login;
    end if;
    execute format('grant connect, create on database %I to retail_loader, retail_transformer',
                   current_database());
    execute format('grant connect on database %I to retail_reader', current_database());
end
$$;

-- Whatever the loader creates in bronze, the transformer may read (and nobody else).
alter default privileges for role retail_loader grant usage on schemas to retail_transformer;
alter default privileges for role retail_loader grant select on tables to retail_transformer;
