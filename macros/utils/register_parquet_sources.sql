{#-
    Registers bronze tables exported as parquet as tables of a local Spark session, one
    folder per table under `root` named <schema>/<table> (bronze_crm/customers ...).
    `tables` lists the exported tables as schema.table; a source left out (the CRM
    deletion log before the first hard delete) stays absent, as it would in bronze.
    The Spark proof uses it to give the session the bronze data the demo loaded into
    DuckDB; on Databricks dlt writes bronze itself and this is never called.
        dbt run-operation register_parquet_sources --target spark \
            --args '{root: /path/to/bronze, tables: [bronze_crm.customers, ...]}'
-#}
{% macro register_parquet_sources(root, tables) %}
    {%- if target.type != 'spark' -%}
        {{ exceptions.raise_compiler_error("register_parquet_sources is for the local Spark session only") }}
    {%- endif -%}
    {%- for table in tables -%}
        {%- set schema_name, table_name = table.split('.') -%}
        {%- do run_query('create schema if not exists ' ~ schema_name) -%}
        {%- do run_query('drop table if exists ' ~ table) -%}
        {%- do run_query("create table " ~ table ~ " using parquet location '" ~ root ~ "/" ~ schema_name ~ "/" ~ table_name ~ "'") -%}
        {%- do log('registered ' ~ table, info=true) -%}
    {%- endfor -%}
{% endmacro %}
