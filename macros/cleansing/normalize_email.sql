{#-
    Emails are compared and joined lower-cased and trimmed. An address is valid when it
    has a local part without blanks or brackets (international letters such as ü are
    fine), one at sign and a dotted domain ending in a 2+ letter TLD. Invalid addresses
    are kept for the data steward and flagged with is_email_valid = false.
-#}
{% macro normalize_email(column) -%}
    lower({{ clean_text(column) }})
{%- endmacro %}

{% macro is_valid_email(normalized_email) -%}
    {{ return(adapter.dispatch('is_valid_email', 'retail_medallion')(normalized_email)) }}
{%- endmacro %}

{% macro default__is_valid_email(normalized_email) -%}
    coalesce({{ regexp_like(normalized_email, '^[^@[:space:]()<>,;:]+@[a-z0-9-]+([.][a-z0-9-]+)*[.][a-z]{2,}$') }}, {{ boolean_literal(false) }})
{%- endmacro %}

{#- T-SQL: the same rule spelled with like, on the part after the at sign as the domain. -#}
{% macro fabric__is_valid_email(normalized_email) -%}
    {%- set email = normalized_email -%}
    {%- set domain = "substring(" ~ email ~ ", charindex('@', " ~ email ~ ") + 1, 4000)" -%}
    cast(case
        when {{ email }} like '_%@_%._%'
            and {{ email }} not like '%@%@%'
            and {{ email }} not like '%[ ()<>,;:]%'
            and {{ email }} not like '%[' + char(9) + char(10) + char(13) + ']%'
            and {{ domain }} not like '%[^a-z0-9.-]%'
            and {{ domain }} not like '%..%'
            and {{ domain }} not like '.%'
            and reverse({{ domain }}) like '[a-z][a-z]%'
            and right({{ domain }}, charindex('.', reverse({{ domain }})) - 1) not like '%[^a-z]%'
            then 1
        else 0
    end as bit)
{%- endmacro %}
