{#-
    Phone numbers in E.164 (+<calling code><national number>, digits only, at most 15).
    Accepted inputs: international (+49 30 1234567, 0049 30 1234567) and national numbers
    (030 1234567, (555) 123-4567) completed with the calling code of the customer's
    country; a national trunk 0 is dropped. Numbers with letters, too few digits (fewer
    than 7 national digits) or too many become null.
    phone: the raw column; calling_code: digits of the country calling code, e.g. '49'.
-#}
{% macro normalize_phone(phone, calling_code) -%}
    {{ return(adapter.dispatch('normalize_phone', 'retail_medallion')(phone, calling_code)) }}
{%- endmacro %}

{% macro default__normalize_phone(phone, calling_code) -%}
    {%- set raw = clean_text(phone) -%}
    {%- set digits = regexp_replace_all(raw, '[^0-9]', '') -%}
    {%- set is_international = "(" ~ regexp_like(raw, '^[+]') ~ " or " ~ regexp_like(raw, '^00') ~ ")" -%}
    {%- set international_digits = regexp_replace_all(regexp_replace_all(raw, '[^0-9]', ''), '^00', '') -%}
    {%- set national_digits = regexp_replace_all(digits, '^0', '') -%}
    case
        when {{ raw }} is null then null
        when {{ regexp_like(raw, '[a-zA-Z]') }} then null
        when not {{ regexp_like(raw, '^[+]?[0-9 ()./-]+$') }} then null
        when {{ is_international }}
            and {{ dbt.length(international_digits) }} between 8 and 15
            then {{ dbt.concat(["'+'", international_digits]) }}
        when {{ is_international }} then null
        when {{ calling_code }} is null then null
        {# NANP numbers are often written with their country code 1 but no plus sign #}
        when {{ calling_code }} = '1'
            and {{ dbt.length(digits) }} = 11
            and {{ regexp_like(digits, '^1') }}
            then {{ dbt.concat(["'+'", digits]) }}
        when {{ dbt.length(national_digits) }} between 7 and (15 - {{ dbt.length(calling_code) }})
            then {{ dbt.concat(["'+'", calling_code, national_digits]) }}
    end
{%- endmacro %}

{#- T-SQL: the same rules with like; once only digits, blanks and ( ) . / - + are known to
    be present, the digits are what is left after removing those characters. -#}
{% macro fabric__normalize_phone(phone, calling_code) -%}
    {%- set raw = clean_text(phone) -%}
    {%- set ns = namespace(digits=raw) -%}
    {%- for separator in [' ', '(', ')', '.', '/', '-', '+'] -%}
        {%- set ns.digits = "replace(" ~ ns.digits ~ ", '" ~ separator ~ "', '')" -%}
    {%- endfor -%}
    {%- set digits = ns.digits -%}
    {%- set is_international = "(" ~ raw ~ " like '+%' or " ~ raw ~ " like '00%')" -%}
    {%- set international_digits = "case when " ~ digits ~ " like '00%' then substring(" ~ digits ~ ", 3, 4000) else " ~ digits ~ " end" -%}
    {%- set national_digits = "case when " ~ digits ~ " like '0%' then substring(" ~ digits ~ ", 2, 4000) else " ~ digits ~ " end" -%}
    case
        when {{ raw }} is null then null
        when {{ raw }} like '%[a-zA-Z]%' then null
        when left({{ raw }}, 1) not like '[+0-9 ()./-]'
            or substring({{ raw }}, 2, 4000) like '%[^0-9 ()./-]%'
            or {{ digits }} = ''
            then null
        when {{ is_international }}
            and len({{ international_digits }}) between 8 and 15
            then concat('+', {{ international_digits }})
        when {{ is_international }} then null
        when {{ calling_code }} is null then null
        when {{ calling_code }} = '1'
            and len({{ digits }}) = 11
            and {{ digits }} like '1%'
            then concat('+', {{ digits }})
        when len({{ national_digits }}) between 7 and (15 - len({{ calling_code }}))
            then concat('+', {{ calling_code }}, {{ national_digits }})
    end
{%- endmacro %}
