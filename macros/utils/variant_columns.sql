{#-
    Type conflicts: when a value does not fit its column's type (an opt-in flag sent as
    "maybe", a date sent as "last tuesday"), dlt leaves the typed column null and lands the
    value in a variant column named <column>__v_<type> (e.g. marketing_opt_in__v_text).
    Reading only the typed column would turn such a value into a silent null, so base
    models quarantine every row whose variant columns hold a value.

    The variant columns exist only once dlt has seen a conflicting value, so they are found
    by introspecting the bronze table when the model runs (a missing table has none).
-#}

{#-
    The variant columns of a relation: a list of {'column': typed column, 'variant': name}.
    A variant column ends in __v_ and one of dlt's data types, next to its typed column.
-#}
{% macro variant_columns(relation) -%}
    {%- set dlt_types = ['text', 'bigint', 'double', 'bool', 'timestamp', 'date', 'time',
                         'decimal', 'wei', 'json', 'complex', 'binary'] -%}
    {%- set variants = [] -%}
    {%- if execute -%}
        {%- set columns = adapter.get_columns_in_relation(relation) -%}
        {%- set names = columns | map(attribute='name') | map('lower') | list -%}
        {%- for name in columns | map(attribute='name') -%}
            {%- set lowered = name | lower -%}
            {%- set split_at = lowered.rfind('__v_') -%}
            {%- if split_at > 0
                and lowered[split_at + 4:] in dlt_types
                and lowered[:split_at] in names -%}
                {%- do variants.append({'column': lowered[:split_at], 'variant': name}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(variants | sort(attribute='variant')) }}
{%- endmacro %}

{#-
    The conflicting values of a row as text, each prefixed with its column, in column
    order and separated by '; ' ('created_at: last tuesday; marketing_opt_in: maybe').
    Null when the row has none, or when the relation has no variant columns at all.
-#}
{% macro type_conflict_value(relation) -%}
    {%- set variants = variant_columns(relation) -%}
    {%- if variants -%}
        {%- set parts = [] -%}
        {%- for variant in variants -%}
            {%- set quoted = adapter.quote(variant.variant) -%}
            {%- do parts.append(
                "case when " ~ quoted ~ " is not null then "
                ~ dbt.concat(["'; " ~ variant.column ~ ": '",
                              "cast(" ~ quoted ~ " as " ~ dbt.type_string() ~ ")"])
                ~ " else '' end"
            ) -%}
        {%- endfor -%}
        {%- set all_parts = dbt.concat(parts) if parts | length > 1 else parts[0] -%}
        {%- set joined = "nullif(" ~ all_parts ~ ", '')" -%}
        {#- drop the leading '; ' -#}
        {{ dbt.right(joined, dbt.length(joined) ~ " - 2") }}
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}
