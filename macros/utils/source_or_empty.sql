{#-
    A source table that dlt only creates once it has seen a first row (the CRM deletion
    log stays absent until the first hard delete). Until then models read an empty,
    typed stand-in with the contract's columns, so the first build does not fail.
    columns: mapping of column name -> data type.
-#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and load_relation(relation) is none -%}
        (
            select
            {%- for name, data_type in columns.items() %}
                cast(null as {{ data_type }}) as {{ name }}{{ "," if not loop.last }}
            {%- endfor %}
            where 1 = 0
        ) as {{ table_name }}_not_yet_loaded
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
