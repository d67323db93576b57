{#-
    Names in title case: the first letter of every word upper-case, the rest lower-case,
    where a word starts after any character that is not a letter or digit (so
    'anne-marie o''neil' becomes 'Anne-Marie O''Neil'), like PostgreSQL's initcap.
-#}
{% macro title_case(column) -%}
    {{ return(adapter.dispatch('title_case', 'retail_medallion')(column)) }}
{%- endmacro %}

{% macro default__title_case(column) -%}
    initcap({{ clean_text(column) }})
{%- endmacro %}

{% macro duckdb__title_case(column) -%}
    {#- DuckDB has no initcap: rebuild the string character by character; a character
        that has an upper and a lower case (or is a digit) continues a word -#}
    list_aggr(
        list_transform(
            string_split({{ clean_text(column) }}, ''),
            lambda letter, position: case
                when position = 1
                    or not (
                        lower(substring({{ clean_text(column) }}, position - 1, 1))
                            <> upper(substring({{ clean_text(column) }}, position - 1, 1))
                        or substring({{ clean_text(column) }}, position - 1, 1) between '0' and '9'
                    )
                    then upper(letter)
                else lower(letter)
            end
        ),
        'string_agg',
        ''
    )
{%- endmacro %}
