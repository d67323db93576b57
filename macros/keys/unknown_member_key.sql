{#-
    The surrogate key of the unknown member row every dimension carries. Facts whose
    natural key is missing or not (yet) known to the dimension point at it, so joins
    from facts to dimensions never lose rows.
-#}
{% macro unknown_member_key() -%}
    '-1'
{%- endmacro %}
