{#- Column types shared by silver and gold, so that contracts and casts agree. -#}

{#- Money: exact decimals, identical sums on every engine. -#}
{% macro type_amount() -%}
    {{ return(adapter.dispatch('type_amount', 'retail_medallion')()) }}
{%- endmacro %}

{% macro default__type_amount() -%}
    decimal(18, 2)
{%- endmacro %}

{% macro postgres__type_amount() -%}
    numeric(18, 2)
{%- endmacro %}

{#- Ratios and scores between 0 and 1, four decimals. -#}
{% macro type_ratio() -%}
    {{ return(adapter.dispatch('type_ratio', 'retail_medallion')()) }}
{%- endmacro %}

{% macro default__type_ratio() -%}
    decimal(9, 4)
{%- endmacro %}

{% macro postgres__type_ratio() -%}
    numeric(9, 4)
{%- endmacro %}

{#-
    Text in gold: the type the contracts declare (varchar; string on Spark and Databricks;
    varchar(8000) on T-SQL), so that a model's query and the table built from its
    contract agree (dbt.type_string() is text on PostgreSQL). The model yml files spell
    the same choice out per target, since yml cannot call macros.
-#}
{% macro type_text() -%}
    {{ return(adapter.dispatch('type_text', 'retail_medallion')()) }}
{%- endmacro %}

{% macro default__type_text() -%}
    varchar
{%- endmacro %}

{% macro spark__type_text() -%}
    string
{%- endmacro %}

{#- T-SQL reads a bare varchar as varchar(30) in casts and varchar(1) in table definitions. -#}
{% macro fabric__type_text() -%}
    varchar(8000)
{%- endmacro %}
