{#- Schemas are named exactly as configured (silver, gold, snapshots), with no target prefix,
    so that every target and every BI tool sees the same names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
