{#- Trimmed text, with empty strings turned into nulls (CSV and APIs deliver both). -#}
{% macro clean_text(column) -%}
    nullif(trim(cast({{ column }} as {{ dbt.type_string() }})), '')
{%- endmacro %}

{#- Inner runs of whitespace collapsed to one blank (lookup keys match free-text spellings). -#}
{% macro collapse_whitespace(text) -%}
    {{ return(adapter.dispatch('collapse_whitespace', 'retail_medallion')(text)) }}
{%- endmacro %}

{% macro default__collapse_whitespace(text) -%}
    {{ regexp_replace_all(text, '[[:space:]]+', ' ') }}
{%- endmacro %}

{#- T-SQL: tabs and line breaks become blanks, then every blank is paired with a bell
    character and the bell-blank pairs removed, leaving one blank per run. -#}
{% macro fabric__collapse_whitespace(text) -%}
    {%- set blanks = "replace(replace(replace(" ~ text ~ ", char(9), ' '), char(10), ' '), char(13), ' ')" -%}
    replace(replace(replace({{ blanks }}, ' ', ' ' + char(7)), char(7) + ' ', ''), char(7), '')
{%- endmacro %}
