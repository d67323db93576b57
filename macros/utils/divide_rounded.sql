{#-
    numerator / denominator rounded half away from zero to `scale` decimals, computed
    with integers. DuckDB divides decimals in floating point while PostgreSQL divides
    them exactly, so a plain round(a / b, 2) can differ by a cent between engines; this
    cannot. The numerator must be exact (an integer or a decimal with at most `scale`
    decimals); a zero or null denominator gives null. Cast the result to the wanted type.
-#}
{% macro divide_rounded(numerator, denominator, scale=2) -%}
    {%- set factor = 10 ** scale -%}
    {%- set scaled = "cast((" ~ numerator ~ ") * " ~ factor ~ " as " ~ dbt.type_bigint() ~ ")" -%}
    {%- set divisor = "cast(" ~ denominator ~ " as " ~ dbt.type_bigint() ~ ")" -%}
    (
        case
            when {{ divisor }} is null or {{ divisor }} = 0 then null
            when {{ scaled }} >= 0
                then {{ integer_divide("2 * " ~ scaled ~ " + " ~ divisor, "2 * " ~ divisor) }}
            else -1 * {{ integer_divide("-2 * " ~ scaled ~ " + " ~ divisor, "2 * " ~ divisor) }}
        end * 1.0 / {{ factor }}
    )
{%- endmacro %}

{#- Integer division of non-negative integers (the quotient truncated). -#}
{% macro integer_divide(dividend, divisor) -%}
    {{ return(adapter.dispatch('integer_divide', 'retail_medallion')(dividend, divisor)) }}
{%- endmacro %}

{% macro default__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) / ({{ divisor }}))
{%- endmacro %}

{% macro duckdb__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) // ({{ divisor }}))
{%- endmacro %}

{% macro spark__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) div ({{ divisor }}))
{%- endmacro %}
