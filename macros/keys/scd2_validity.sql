{#-
    Validity windows of dimension versions read from a dbt snapshot.
    The first version of a natural key is valid from the beginning of time: facts from
    before the key's first snapshot (history loaded on day 0) still find a version.
    An open version is valid until the end of time, so point-in-time joins need no
    null handling: valid_from <= event_at < valid_to.
-#}
{% macro scd2_beginning_of_time() -%}
    cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro scd2_end_of_time() -%}
    cast('9999-12-31 00:00:00' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro scd2_valid_from(natural_key, snapshot_valid_from='dbt_valid_from') -%}
    case
        when row_number() over (partition by {{ natural_key }} order by {{ snapshot_valid_from }}) = 1
            then {{ scd2_beginning_of_time() }}
        else cast({{ snapshot_valid_from }} as {{ dbt.type_timestamp() }})
    end
{%- endmacro %}
