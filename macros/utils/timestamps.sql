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

{#- Spark and Databricks timestamps are instants shown in the session time zone. -#}
{% macro spark__to_utc_timestamp(column) -%}
    to_utc_timestamp(cast({{ column }} as {{ dbt.type_timestamp() }}), current_timezone())
{%- endmacro %}

{#- dlt lands time-zone-aware columns in T-SQL as datetimeoffset. -#}
{% macro fabric__to_utc_timestamp(column) -%}
    cast(switchoffset(cast({{ column }} as datetimeoffset), '+00:00') as {{ dbt.type_timestamp() }})
{%- endmacro %}

{#- A date as an integer yyyymmdd, the key of dim_date. -#}
{% macro date_key(column) -%}
    {{ return(adapter.dispatch('date_key', 'retail_medallion')(column)) }}
{%- endmacro %}

{% macro default__date_key(column) -%}
    cast(
        extract(year from {{ column }}) * 10000
        + extract(month from {{ column }}) * 100
        + extract(day from {{ column }})
        as {{ dbt.type_int() }}
    )
{%- endmacro %}

{% macro fabric__date_key(column) -%}
    cast(year({{ column }}) * 10000 + month({{ column }}) * 100 + day({{ column }}) as {{ dbt.type_int() }})
{%- endmacro %}

{#-
    Integer parts of a date, cross-database, named as in PostgreSQL: year, quarter, month,
    day, isodow (Monday = 1), week (ISO week) and doy.
-#}
{% macro date_part_int(part, column) -%}
    {{ return(adapter.dispatch('date_part_int', 'retail_medallion')(part, column)) }}
{%- endmacro %}

{% macro default__date_part_int(part, column) -%}
    cast(extract({{ part }} from {{ column }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro spark__date_part_int(part, column) -%}
    {%- set spark_parts = {'isodow': 'dayofweek_iso', 'doy': 'doy'} -%}
    cast(extract({{ spark_parts.get(part, part) }} from {{ column }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro fabric__date_part_int(part, column) -%}
    {%- if part == 'isodow' -%}
        {#- datepart(weekday) depends on the session's datefirst; 1900-01-01 was a Monday -#}
        cast(datediff(day, cast('1900-01-01' as date), {{ column }}) % 7 + 1 as {{ dbt.type_int() }})
    {%- else -%}
        {%- set tsql_parts = {'week': 'iso_week', 'doy': 'dayofyear'} -%}
        cast(datepart({{ tsql_parts.get(part, part) }}, {{ column }}) as {{ dbt.type_int() }})
    {%- endif -%}
{%- endmacro %}

{% macro to_date(column) -%}
    cast({{ column }} as date)
{%- endmacro %}
