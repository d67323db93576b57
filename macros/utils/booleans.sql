{#-
    Booleans differ most between engines: T-SQL (Synapse, Fabric, SQL Server) has no
    boolean type, only bit, and a comparison cannot be selected as a value or used bare
    in a where clause. Models write boolean values and tests through these macros.
-#}

{#- A condition's truth as a boolean column; null stays null (unknown is not false). -#}
{% macro as_boolean(condition) -%}
    {{ return(adapter.dispatch('as_boolean', 'retail_medallion')(condition)) }}
{%- endmacro %}

{% macro default__as_boolean(condition) -%}
    ({{ condition }})
{%- endmacro %}

{% macro fabric__as_boolean(condition) -%}
    cast(case when {{ condition }} then 1 when not ({{ condition }}) then 0 end as bit)
{%- endmacro %}


{#- The literal true or false. -#}
{% macro boolean_literal(value) -%}
    {{ return(adapter.dispatch('boolean_literal', 'retail_medallion')(value)) }}
{%- endmacro %}

{% macro default__boolean_literal(value) -%}
    {{ 'true' if value else 'false' }}
{%- endmacro %}

{% macro fabric__boolean_literal(value) -%}
    cast({{ 1 if value else 0 }} as bit)
{%- endmacro %}


{#- A boolean column used as a condition (in where, when, and, not). -#}
{% macro is_true(column) -%}
    {{ return(adapter.dispatch('is_true', 'retail_medallion')(column)) }}
{%- endmacro %}

{% macro default__is_true(column) -%}
    {{ column }}
{%- endmacro %}

{% macro fabric__is_true(column) -%}
    ({{ column }} = 1)
{%- endmacro %}
