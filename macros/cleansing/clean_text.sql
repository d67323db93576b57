{#- Trimmed text, with empty strings turned into nulls (CSV and APIs deliver both). -#}
{% macro clean_text(column) -%}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}
