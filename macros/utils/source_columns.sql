{#-
    Schema drift: a source column that only appears from some load on (dlt adds it when it
    first sees it). Before that the model reads a typed null, so staging never breaks.
-#}
{% macro column_if_exists(relation, column_name, data_type) -%}
    {%- set found = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name | lower == column_name | lower -%}
                {%- do found.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if found -%}
        cast({{ adapter.quote(found[0]) }} as {{ data_type }})
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
