{#-
    Range rules silver applies to source values before gold sees them, so that a value a
    gold test or a dimension join would reject is quarantined with a reason code instead
    of failing the build. The limits are vars (dbt_project.yml) the yml tests read too.
-#}

{#- Whether a timestamp falls outside dim_date (vars calendar_start_date / calendar_end_date). -#}
{% macro is_outside_calendar(column) -%}
    {{ to_date(column) }} not between cast('{{ var("calendar_start_date") }}' as date)
        and cast('{{ var("calendar_end_date") }}' as date)
{%- endmacro %}

{#- Whether a text is longer than var('max_code_length'). -#}
{% macro is_too_long(column) -%}
    {{ dbt.length(column) }} > {{ var('max_code_length') }}
{%- endmacro %}
