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

{#-
    Whether dbt snapshots can run on the target. A local Spark session keeps its tables
    as plain parquet (Delta Lake is a separate download), and snapshots need merge; there
    the dimensions fall back to the current version of every key (see scd2_history).
    dbt_project.yml disables the snapshots with the same test, since yml cannot call macros.
-#}
{% macro snapshots_enabled() -%}
    {{ return(target.type != 'spark') }}
{%- endmacro %}

{#-
    The snapshot a dimension is built from, or, where snapshots cannot run, a stand-in
    with the snapshot's columns that holds one open version per key taken from the
    current staging model (history starts when the warehouse is first built).
-#}
{% macro scd2_history(snapshot_name, current_model, updated_at='updated_at') -%}
    {%- if snapshots_enabled() -%}
        {{ ref(snapshot_name) }}
    {%- else -%}
        (
            select
                current_versions.*,
                cast(null as {{ dbt.type_string() }}) as dbt_scd_id,
                cast(current_versions.{{ updated_at }} as {{ dbt.type_timestamp() }}) as dbt_updated_at,
                cast(current_versions.{{ updated_at }} as {{ dbt.type_timestamp() }}) as dbt_valid_from,
                cast(null as {{ dbt.type_timestamp() }}) as dbt_valid_to,
                'False' as dbt_is_deleted
            from {{ ref(current_model) }} as current_versions
        ) as {{ snapshot_name }}
    {%- endif -%}
{%- endmacro %}
