{#-
    Source timestamps arrive with a time zone (CRM API, dlt lineage) or without (ERP).
    Silver stores every instant as a timestamp without time zone in UTC, so that
    comparisons, snapshots and date keys behave the same on every engine.
-#}
{% macro to_utc_timestamp(column) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'retail_medallion')(column)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(column) -%}
    cast({{ column }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(column) -%}
    cast(timezone('UTC', cast({{ column }} as timestamp with time zone)) as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro postgres__to_utc_timestamp(column) -%}
    cast(cast({{ column }} as timestamp with time zone) at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- A date as an integer yyyymmdd, the key of dim_date. -#}
{% macro date_key(column) -%}
    cast(
        extract(year from {{ column }}) * 10000
        + extract(month from {{ column }}) * 100
        + extract(day from {{ column }})
        as {{ dbt.type_int() }}
    )
{%- endmacro %}

{#- Integer parts of a date, cross-database. -#}
{% macro date_part_int(part, column) -%}
    {{ return(adapter.dispatch('date_part_int', 'retail_medallion')(part, column)) }}
{%- endmacro %}

{% macro default__date_part_int(part, column) -%}
    cast(extract({{ part }} from {{ column }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro to_date(column) -%}
    cast({{ column }} as date)
{%- endmacro %}
