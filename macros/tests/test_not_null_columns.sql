{#-
    Rows where any of the listed columns is null. One test per model instead of a not_null
    test per column: each test is a dbt node, and on a daily run the per-node overhead, not
    the scan, is what a not_null test costs. A key column keeps its own unique and not_null.
-#}
{% test not_null_columns(model, column_names) %}

select *
from {{ model }}
where
    {%- for column_name in column_names %}
    {% if not loop.first %}or {% endif %}{{ column_name }} is null
    {%- endfor %}

{% endtest %}
