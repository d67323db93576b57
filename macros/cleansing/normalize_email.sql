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
    coalesce({{ regexp_like(normalized_email, '^[^@[:space:]()<>,;:]+@[a-z0-9-]+([.][a-z0-9-]+)*[.][a-z]{2,}$') }}, false)
{%- endmacro %}
