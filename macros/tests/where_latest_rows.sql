{#-
    Tests that cost what the day costs. An incremental model stamps every row it writes with
    the start of the dbt run that wrote it (_built_at). A row-wise test of such a model
    (not null, accepted values, relationships, signs, ranges) checks only the rows of the
    latest run that wrote any: rows an earlier run wrote were checked by that run. A
    `unique` test of the model's own unique_key checks the keys that run wrote, each against
    every row: delete+insert replaces every held row of a key it writes, so a run can only
    duplicate a key it wrote (a row written outside dbt is what the full check is for).
    The same holds for a `unique` test whose config names, in meta
    `keys_written_together_stamp`, the column that stamps rows written together with every
    other row of their key (a view over a model that rewrites a key's rows together). Other
    tests that compare rows with each other (key combinations, SCD2 windows) and every
    test of other models read the whole relation, as does every test when the run sets
    `--vars '{full_checks: true}'` (make test does, and a weekly full run should).

    dbt applies a test's `where` config through this macro (dbt's own, extended); a `where`
    set on a test still applies, together with the latest-run filter. The logic stays in
    this one macro: dbt calls it from its own namespace, where the project's other macros
    are not in scope.
-#}

{% macro built_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro default__get_where_subquery(relation) -%}
    {%- set row_wise_tests = ['not_null', 'not_null_columns', 'accepted_values',
                              'relationships', 'sales_line_signs', 'between'] -%}
    {%- set full_checks = var('full_checks', false) | string | lower in ['true', '1', 'yes'] -%}
    {%- set conditions = [] -%}
    {%- if config.get('where') -%}
        {%- do conditions.append('(' ~ config.get('where') ~ ')') -%}
    {%- endif -%}
    {%- if execute and not full_checks -%}
        {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
        {%- set tested = graph.nodes.get(model.get('attached_node') or '') -%}
        {%- if test_name in row_wise_tests and tested is not none
              and tested.config.materialized == 'incremental'
              and '_built_at' in tested.columns -%}
            {%- do conditions.append(
                '_built_at = (select max(_built_at) from ' ~ relation ~ ')') -%}
        {%- elif test_name == 'unique' and model.get('column_name')
              and (config.get('meta') or {}).get('keys_written_together_stamp') -%}
            {%- set key = model.get('column_name') -%}
            {%- set stamp = config.get('meta').get('keys_written_together_stamp') -%}
            {%- do conditions.append(
                key ~ ' in (select ' ~ key ~ ' from ' ~ relation ~ ' where ' ~ stamp
                ~ ' = (select max(' ~ stamp ~ ') from ' ~ relation ~ '))') -%}
        {%- elif test_name == 'unique' and tested is not none
              and tested.config.materialized == 'incremental'
              and '_built_at' in tested.columns
              and model.get('column_name')
              and model.get('column_name') == tested.config.get('unique_key') -%}
            {%- set key = model.get('column_name') -%}
            {%- do conditions.append(
                key ~ ' in (select ' ~ key ~ ' from ' ~ relation
                ~ ' where _built_at = (select max(_built_at) from ' ~ relation ~ '))') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {% do return(filtered) %}
    {%- endif -%}
    {% do return(relation) %}
{%- endmacro %}
