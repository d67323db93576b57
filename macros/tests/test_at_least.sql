{#- Rows whose `column_name` is below `minimum`, e.g. a data-quality score under its threshold. -#}
{% test at_least(model, column_name, minimum) %}

select *
from {{ model }}
where {{ column_name }} < {{ minimum }}

{% endtest %}
