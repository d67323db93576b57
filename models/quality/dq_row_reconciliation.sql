{#-
    Where every bronze row went, per source table and dlt load: into silver, into
    quarantine, or counted as a duplicate (an older version or a re-delivered line), as
    superseded (a line of an older delivery of a corrected sales file) or as a
    hard-deleted customer. Bronze rows are counted straight from the source tables, the
    other classes from the models that hold them, so a row lost or doubled anywhere on the
    way breaks the equation tested in tests/dbt/assert_bronze_rows_reconcile.sql.

    One entry per bronze table: its source, the model that holds its final row_status
    (the base model, or for a table with a check that needs a second table the
    intermediate model that makes it), its staging model (silver) and the quarantine
    model that lists its rejected rows.
-#}

{%- set reconciled_tables = [
    {'source': 'crm', 'table': 'customers', 'classified': 'int_customer_versions_classified', 'silver': 'stg_crm__customers'},
    {'source': 'crm', 'table': 'customer_deletions', 'classified': 'base_crm__customer_deletions', 'silver': 'stg_crm__customer_deletions'},
    {'source': 'erp', 'table': 'products', 'classified': 'base_erp__products', 'silver': 'stg_erp__products'},
    {'source': 'erp', 'table': 'stores', 'classified': 'base_erp__stores', 'silver': 'stg_erp__stores'},
    {'source': 'erp', 'table': 'orders', 'classified': 'base_erp__orders', 'silver': 'stg_erp__orders'},
    {'source': 'erp', 'table': 'order_lines', 'classified': 'int_order_lines_classified', 'silver': 'stg_erp__order_lines'},
    {'source': 'sales', 'table': 'sales_lines', 'classified': 'base_sales__sales_lines', 'silver': 'stg_sales__sales_lines'},
] -%}

with

classified_rows as (
    {%- for entry in reconciled_tables %}
    {%- set source_name = 'bronze_' ~ entry.source %}
    {%- set context_columns %}
        '{{ entry.source }}' as source_name,
        '{{ entry.table }}' as table_name,
        _dlt_load_id,
    {%- endset %}
    select
        {{ context_columns }}
        'bronze' as row_class
    {%- if entry.table == 'customer_deletions' %}
    {#- the CRM deletion log only exists once a first customer was hard-deleted #}
    from {{ source_or_empty(source_name, entry.table, {'_dlt_load_id': dbt.type_string()}) }}
    {%- else %}
    from {{ source(source_name, entry.table) }}
    {%- endif %}

    union all

    select
        {{ context_columns }}
        'silver' as row_class
    from {{ ref(entry.silver) }}

    union all

    select
        {{ context_columns }}
        'quarantined' as row_class
    from {{ ref('quarantine_' ~ entry.source) }}
    where table_name = '{{ entry.table }}'

    union all

    {#- row_status values that are counted classes, not silver or quarantine #}
    select
        {{ context_columns }}
        row_status as row_class
    from {{ ref(entry.classified) }}
    where row_status in ('duplicate', 'deleted', 'superseded')
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}
),

final as (
    select
        source_name,
        table_name,
        _dlt_load_id,
        sum(case when row_class = 'bronze' then 1 else 0 end) as bronze_rows,
        sum(case when row_class = 'silver' then 1 else 0 end) as silver_rows,
        sum(case when row_class = 'quarantined' then 1 else 0 end) as quarantined_rows,
        sum(case when row_class = 'duplicate' then 1 else 0 end) as duplicate_rows,
        sum(case when row_class = 'deleted' then 1 else 0 end) as deleted_rows,
        sum(case when row_class = 'superseded' then 1 else 0 end) as superseded_rows
    from classified_rows
    group by source_name, table_name, _dlt_load_id
)

select * from final
