{#-
    The lookup key for the country_codes seed: free-text spellings (US, usa,
    United States, Deutschland) are matched lower-cased, trimmed and with inner runs of
    whitespace collapsed.
-#}
{% macro country_lookup_key(column) -%}
    lower({{ collapse_whitespace(clean_text(column)) }})
{%- endmacro %}
