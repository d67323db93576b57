{#-
    Typed values from text exactly as delivered. A value that does not parse becomes
    null instead of failing the whole model; callers compare raw and parsed values to
    quarantine the row with a reason code. The same pattern decides on every engine, so
    a row is rejected on DuckDB exactly when it is rejected on PostgreSQL. Spark evaluates
    case branches eagerly enough to trip ANSI casts, so it uses try_cast behind the same
    pattern; T-SQL has no regular expressions and checks the characters with like.
-#}

{#- T-SQL: a text of at most max_digits digits after an optional sign. -#}
{% macro fabric__is_signed_digits(value, max_digits) -%}
    ({{ value }} not like '%[^0-9+-]%'
        and {{ value }} not like '_%[+-]%'
        and {{ value }} like '%[0-9]%'
        and len(replace(replace({{ value }}, '+', ''), '-', '')) <= {{ max_digits }})
{%- endmacro %}

{% macro parse_integer(column) -%}
    {{ return(adapter.dispatch('parse_integer', 'retail_medallion')(column)) }}
{%- endmacro %}

{% macro default__parse_integer(column) -%}
    case
        when {{ regexp_like(clean_text(column), '^[+-]?[0-9]{1,9}$') }}
            then cast({{ clean_text(column) }} as {{ dbt.type_int() }})
    end
{%- endmacro %}

{% macro duckdb__parse_integer(column) -%}
    case
        when {{ regexp_like(clean_text(column), '^[+-]?[0-9]{1,9}$') }}
            then try_cast({{ clean_text(column) }} as {{ dbt.type_int() }})
    end
{%- endmacro %}


{% macro spark__parse_integer(column) -%}
    case
        when {{ regexp_like(clean_text(column), '^[+-]?[0-9]{1,9}$') }}
            then try_cast({{ clean_text(column) }} as {{ dbt.type_int() }})
    end
{%- endmacro %}

{% macro fabric__parse_integer(column) -%}
    case
        when {{ fabric__is_signed_digits(clean_text(column), 9) }}
            then try_cast({{ clean_text(column) }} as {{ dbt.type_int() }})
    end
{%- endmacro %}


{% macro parse_bigint(column) -%}
    {{ return(adapter.dispatch('parse_bigint', 'retail_medallion')(column)) }}
{%- endmacro %}

{% macro default__parse_bigint(column) -%}
    case
        when {{ regexp_like(clean_text(column), '^[+-]?[0-9]{1,18}$') }}
            then cast({{ clean_text(column) }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}

{% macro duckdb__parse_bigint(column) -%}
    case
        when {{ regexp_like(clean_text(column), '^[+-]?[0-9]{1,18}$') }}
            then try_cast({{ clean_text(column) }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}


{% macro spark__parse_bigint(column) -%}
    case
        when {{ regexp_like(clean_text(column), '^[+-]?[0-9]{1,18}$') }}
            then try_cast({{ clean_text(column) }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}

{% macro fabric__parse_bigint(column) -%}
    case
        when {{ fabric__is_signed_digits(clean_text(column), 18) }}
            then try_cast({{ clean_text(column) }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}


{#- Money: a dot as decimal separator, at most two decimals. -#}
{% macro parse_amount(column) -%}
    {{ return(adapter.dispatch('parse_amount', 'retail_medallion')(column)) }}
{%- endmacro %}

{% macro default__parse_amount(column) -%}
    case
        when {{ regexp_like(clean_text(column), '^[+-]?[0-9]{1,12}([.][0-9]{1,2})?$') }}
            then cast({{ clean_text(column) }} as {{ type_amount() }})
    end
{%- endmacro %}

{% macro duckdb__parse_amount(column) -%}
    case
        when {{ regexp_like(clean_text(column), '^[+-]?[0-9]{1,12}([.][0-9]{1,2})?$') }}
            then try_cast({{ clean_text(column) }} as {{ type_amount() }})
    end
{%- endmacro %}


{% macro spark__parse_amount(column) -%}
    case
        when {{ regexp_like(clean_text(column), '^[+-]?[0-9]{1,12}([.][0-9]{1,2})?$') }}
            then try_cast({{ clean_text(column) }} as {{ type_amount() }})
    end
{%- endmacro %}

{#- T-SQL: digits and at most one dot, followed by at most two decimals. -#}
{% macro fabric__parse_amount(column) -%}
    {%- set value = clean_text(column) -%}
    {%- set unsigned = "replace(replace(" ~ value ~ ", '+', ''), '-', '')" -%}
    case
        when {{ value }} not like '%[^0-9.+-]%'
            and {{ value }} not like '_%[+-]%'
            and {{ value }} not like '%.%.%'
            and {{ value }} not like '%.___%'
            and {{ value }} not like '%.'
            and {{ unsigned }} like '[0-9]%'
            and len({{ unsigned }}) - case when {{ value }} like '%.%' then len({{ value }}) - charindex('.', {{ value }}) + 1 else 0 end <= 12
            then try_cast({{ value }} as {{ type_amount() }})
    end
{%- endmacro %}


{#-
    Timestamps as 'YYYY-MM-DD HH:MM:SS' (or with a T). The pattern checks the ranges of
    every field and the case checks the day against the length of the month, so
    '2026-02-31 10:00:00' is rejected without an engine-specific try_cast.
-#}
{% macro parse_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'retail_medallion')(column)) }}
{%- endmacro %}

{% macro default__parse_timestamp(column) -%}
    {%- set value = clean_text(column) -%}
    {%- set year = "cast(substring(" ~ value ~ ", 1, 4) as " ~ dbt.type_int() ~ ")" -%}
    {%- set month = "cast(substring(" ~ value ~ ", 6, 2) as " ~ dbt.type_int() ~ ")" -%}
    {%- set day = "cast(substring(" ~ value ~ ", 9, 2) as " ~ dbt.type_int() ~ ")" -%}
    case
        when not {{ regexp_like(value, '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$') }}
            then null
        when {{ day }} <= case
                when {{ month }} in (4, 6, 9, 11) then 30
                when {{ month }} = 2
                    and {{ year }} % 4 = 0
                    and ({{ year }} % 100 <> 0 or {{ year }} % 400 = 0)
                    then 29
                when {{ month }} = 2 then 28
                else 31
            end
            then cast(replace({{ value }}, 'T', ' ') as {{ dbt.type_timestamp() }})
    end
{%- endmacro %}

{% macro spark__parse_timestamp(column) -%}
    {%- set value = clean_text(column) -%}
    case
        when {{ regexp_like(value, '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$') }}
            then try_cast(replace({{ value }}, 'T', ' ') as {{ dbt.type_timestamp() }})
    end
{%- endmacro %}

{#- T-SQL: the shape checked with like; try_convert style 120 rejects impossible days. -#}
{% macro fabric__parse_timestamp(column) -%}
    {%- set value = clean_text(column) -%}
    case
        when {{ value }} like '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9][ T][0-2][0-9]:[0-5][0-9]:[0-5][0-9]'
            then try_convert({{ dbt.type_timestamp() }}, replace({{ value }}, 'T', ' '), 120)
    end
{%- endmacro %}
