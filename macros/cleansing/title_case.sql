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

{% macro spark__title_case(column) -%}
    {#- Spark's initcap only starts words after blanks: the same character-by-character
        rebuild as on DuckDB, with Spark's zero-based transform index -#}
    array_join(
        transform(
            split({{ clean_text(column) }}, ''),
            (letter, position) -> case
                when position = 0
                    or not (
                        lower(substring({{ clean_text(column) }}, position, 1))
                            <> upper(substring({{ clean_text(column) }}, position, 1))
                        or substring({{ clean_text(column) }}, position, 1) between '0' and '9'
                    )
                    then upper(letter)
                else lower(letter)
            end
        ),
        ''
    )
{%- endmacro %}

{#-
    T-SQL has neither initcap nor a way to rebuild a string per character in one
    expression: the first letter and the first letters of the next two words (after a
    blank, hyphen or apostrophe) are upper-cased, the rest lower-cased. A fourth word
    stays lower-case; a documented difference from the other engines.
-#}
{% macro fabric__title_case(column) -%}
    {%- set lowered = "lower(" ~ clean_text(column) ~ ")" -%}
    {%- set ns = namespace(
        expression="stuff(" ~ lowered ~ ", 1, 1, upper(left(" ~ lowered ~ ", 1)))",
        after="0"
    ) -%}
    {%- for _ in range(2) -%}
        {#- position of the separator before the next word, 0 when there is none -#}
        {%- set found = "patindex('%[ ''-][a-z]%', substring(" ~ lowered ~ ", " ~ ns.after ~ " + 1, 4000))" -%}
        {%- set separator = "case when " ~ found ~ " > 0 then " ~ ns.after ~ " + " ~ found ~ " else 0 end" -%}
        {#- with no further word this upper-cases the first letter again, which is harmless -#}
        {%- set ns.expression = "stuff(" ~ ns.expression ~ ", " ~ separator ~ " + 1, 1, upper(substring(" ~ lowered ~ ", " ~ separator ~ " + 1, 1)))" -%}
        {%- set ns.after = "(" ~ separator ~ ")" -%}
    {%- endfor -%}
    {{ ns.expression }}
{%- endmacro %}
