{#-
    The sales aggregates rebuild only the periods (days, months) whose lines changed since
    their last build. fct_sales stamps every line it writes with _built_at, and an
    aggregate row carries the _built_at of the run that rebuilt its period. A period is
    rebuilt when one of its lines was written after the aggregate's last build (new, late,
    corrected or re-keyed lines), when its line count differs from what the aggregate
    counted (lines deleted: dropped by a correction, cancelled orders), or when it is new.
    A period that lost all its lines is deleted by the pre-hook.

    Where rows cannot be deleted by key (Databricks, a local Spark session), the aggregates
    are tables rebuilt whole.
-#}

{% macro sales_aggregate_materialization() -%}
    {{ return('table' if target.type in ['databricks', 'spark'] else 'incremental') }}
{%- endmacro %}

{#-
    A select of the periods to rebuild. The model declares its dependence on fct_sales and
    dim_date (`-- depends_on`): they are read on incremental runs only.
-#}
{% macro sales_periods_to_rebuild(period_column) -%}
    select lines_per_period.{{ period_column }}
    from (
        select
            dim_date.{{ period_column }},
            sum(lines_per_day.line_count) as line_count,
            max(lines_per_day.last_built_at) as last_built_at
        from (
            {#- grouped by day before the calendar join: the join then meets days, not lines -#}
            select
                date_key,
                count(*) as line_count,
                max(_built_at) as last_built_at
            from {{ ref('fct_sales') }}
            group by date_key
        ) as lines_per_day
        inner join {{ ref('dim_date') }} as dim_date
            on lines_per_day.date_key = dim_date.date_key
        group by dim_date.{{ period_column }}
    ) as lines_per_period
    left join (
        select
            {{ period_column }},
            sum(line_count) as line_count
        from {{ this }}
        group by {{ period_column }}
    ) as built_periods
        on lines_per_period.{{ period_column }} = built_periods.{{ period_column }}
    where built_periods.{{ period_column }} is null
        or built_periods.line_count <> lines_per_period.line_count
        or lines_per_period.last_built_at > (select max(_built_at) from {{ this }})
{%- endmacro %}

{#- Pre-hook: delete the periods no fct_sales line falls in any more. -#}
{% macro delete_sales_periods_without_lines(period_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ period_column }} not in (
            select dim_date.{{ period_column }}
            from (select distinct date_key from {{ ref('fct_sales') }}) as sales_days
            inner join {{ ref('dim_date') }} as dim_date
                on sales_days.date_key = dim_date.date_key
        )
    {%- endif -%}
{%- endmacro %}
