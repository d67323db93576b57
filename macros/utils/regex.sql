{#-
    Regular expressions differ in syntax on every engine; models only call these.
    Patterns are written in POSIX ERE (PostgreSQL, DuckDB); Spark and Databricks use Java
    regular expressions, which read a bracket class such as [[:space:]] as a set of
    letters, so the classes are translated. T-SQL has no regular expressions at all: the
    macros that need them have fabric__ variants built on like and try_cast instead.
-#}

{% macro regexp_like(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_like', 'retail_medallion')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_like(expression, pattern) -%}
    regexp_like({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__regexp_like(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__regexp_like(expression, pattern) -%}
    ({{ expression }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro spark__regexp_like(expression, pattern) -%}
    ({{ expression }} rlike '{{ java_regex(pattern) }}')
{%- endmacro %}

{% macro fabric__regexp_like(expression, pattern) -%}
    {{ exceptions.raise_compiler_error("T-SQL has no regular expressions: give the calling macro a fabric__ variant (pattern " ~ pattern ~ ")") }}
{%- endmacro %}


{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'retail_medallion')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{% macro duckdb__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro postgres__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ java_regex(pattern) }}', '{{ replacement }}')
{%- endmacro %}

{% macro fabric__regexp_replace_all(expression, pattern, replacement) -%}
    {{ exceptions.raise_compiler_error("T-SQL has no regular expressions: give the calling macro a fabric__ variant (pattern " ~ pattern ~ ")") }}
{%- endmacro %}


{#- A POSIX pattern in Java syntax, written for a Spark SQL string literal. -#}
{% macro java_regex(pattern) -%}
    {{- pattern
        | replace('[:space:]', '\\\\s')
        | replace('[:digit:]', '0-9')
        | replace('[:alpha:]', '\\\\p{L}') -}}
{%- endmacro %}
