{#-
    Post-hook of every model, snapshot and seed: on PostgreSQL, the table just built gets its
    planner statistics at once. A table dbt creates or rewrites has none until autovacuum
    gets to it, which is after the run: the next model's query is planned as if the table
    held a handful of rows. A daily run of int_sales_lines_unioned's pre-hook was planned
    as nested loops over every held line that way (59 s at the test scale; the whole
    model under a second with statistics). Views hold no rows to sample; the other
    engines keep their own statistics.
-#}

{% macro refresh_statistics() -%}
    {{ return(adapter.dispatch('refresh_statistics', 'retail_medallion')()) }}
{%- endmacro %}

{% macro default__refresh_statistics() -%}
    {{ return('') }}
{%- endmacro %}

{% macro postgres__refresh_statistics() -%}
    {%- if model.config.materialized in ('table', 'incremental', 'snapshot', 'seed') -%}
        {{ return('analyze ' ~ this) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
