{#-
    How incremental models replace rows by key on each engine: delete+insert where a
    plain delete is cheap (DuckDB, PostgreSQL, Synapse/Fabric), merge on Databricks
    (Delta). A local Spark session writes plain parquet tables, which cannot delete or
    merge rows: there the model is rebuilt whole with insert_overwrite, so no slice is
    ever appended twice.
-#}
{% macro incremental_strategy_by_key() -%}
    {{ return(adapter.dispatch('incremental_strategy_by_key', 'retail_medallion')()) }}
{%- endmacro %}

{% macro default__incremental_strategy_by_key() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro databricks__incremental_strategy_by_key() -%}
    {{ return('merge') }}
{%- endmacro %}

{% macro spark__incremental_strategy_by_key() -%}
    {{ return('insert_overwrite') }}
{%- endmacro %}


{#- Whether an incremental run may process only a slice and replace its rows by key. -#}
{% macro replaces_rows_by_key() -%}
    {{ return(incremental_strategy_by_key() != 'insert_overwrite') }}
{%- endmacro %}


{#- The filter of a slice: the rows of the bronze loads the model does not hold yet. -#}
{% macro loads_not_yet_held() -%}
    _dlt_load_id not in (select distinct held._dlt_load_id from {{ this }} as held)
{%- endmacro %}
