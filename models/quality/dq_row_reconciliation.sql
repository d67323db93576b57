{#-
    Where every bronze row went, per source table and dlt load: into silver, into
    quarantine, or counted as a duplicate (an older version or a re-delivered line) or as
    a hard-deleted customer. Bronze rows are counted straight from the source tables, the
    other classes from the models that hold them, so a row lost or doubled anywhere on the
    way breaks the equation tested in tests/dbt/assert_bronze_rows_reconcile.sql.
-#}

with

classified_rows as (
    select
        'crm' as source_name,
        'customers' as table_name,
        _dlt_load_id,
        'bronze' as row_class
    from {{ source('bronze_crm', 'customers') }}

    union all

    select
        'crm' as source_name,
        'customers' as table_name,
        _dlt_load_id,
        'silver' as row_class
    from {{ ref('stg_crm__customers') }}

    union all

    select
        'crm' as source_name,
        'customers' as table_name,
        _dlt_load_id,
        'quarantined' as row_class
    from {{ ref('quarantine_crm') }}
    where table_name = 'customers'

    union all

    select
        'crm' as source_name,
        'customers' as table_name,
        _dlt_load_id,
        row_status as row_class
    from {{ ref('base_crm__customers') }}
    where row_status in ('duplicate', 'deleted')

    union all

    select
        'crm' as source_name,
        'customer_deletions' as table_name,
        _dlt_load_id,
        'bronze' as row_class
    from {{ source_or_empty(
        'bronze_crm', 'customer_deletions', {'_dlt_load_id': dbt.type_string()}
    ) }}

    union all

    select
        'crm' as source_name,
        'customer_deletions' as table_name,
        _dlt_load_id,
        'silver' as row_class
    from {{ ref('stg_crm__customer_deletions') }}

    union all

    select
        'crm' as source_name,
        'customer_deletions' as table_name,
        _dlt_load_id,
        'quarantined' as row_class
    from {{ ref('quarantine_crm') }}
    where table_name = 'customer_deletions'

    union all

    select
        'crm' as source_name,
        'customer_deletions' as table_name,
        _dlt_load_id,
        row_status as row_class
    from {{ ref('base_crm__customer_deletions') }}
    where row_status in ('duplicate', 'deleted')

    union all

    select
        'erp' as source_name,
        'products' as table_name,
        _dlt_load_id,
        'bronze' as row_class
    from {{ source('bronze_erp', 'products') }}

    union all

    select
        'erp' as source_name,
        'products' as table_name,
        _dlt_load_id,
        'silver' as row_class
    from {{ ref('stg_erp__products') }}

    union all

    select
        'erp' as source_name,
        'products' as table_name,
        _dlt_load_id,
        'quarantined' as row_class
    from {{ ref('quarantine_erp') }}
    where table_name = 'products'

    union all

    select
        'erp' as source_name,
        'products' as table_name,
        _dlt_load_id,
        row_status as row_class
    from {{ ref('base_erp__products') }}
    where row_status in ('duplicate', 'deleted')

    union all

    select
        'erp' as source_name,
        'stores' as table_name,
        _dlt_load_id,
        'bronze' as row_class
    from {{ source('bronze_erp', 'stores') }}

    union all

    select
        'erp' as source_name,
        'stores' as table_name,
        _dlt_load_id,
        'silver' as row_class
    from {{ ref('stg_erp__stores') }}

    union all

    select
        'erp' as source_name,
        'stores' as table_name,
        _dlt_load_id,
        'quarantined' as row_class
    from {{ ref('quarantine_erp') }}
    where table_name = 'stores'

    union all

    select
        'erp' as source_name,
        'stores' as table_name,
        _dlt_load_id,
        row_status as row_class
    from {{ ref('base_erp__stores') }}
    where row_status in ('duplicate', 'deleted')

    union all

    select
        'erp' as source_name,
        'orders' as table_name,
        _dlt_load_id,
        'bronze' as row_class
    from {{ source('bronze_erp', 'orders') }}

    union all

    select
        'erp' as source_name,
        'orders' as table_name,
        _dlt_load_id,
        'silver' as row_class
    from {{ ref('stg_erp__orders') }}

    union all

    select
        'erp' as source_name,
        'orders' as table_name,
        _dlt_load_id,
        'quarantined' as row_class
    from {{ ref('quarantine_erp') }}
    where table_name = 'orders'

    union all

    select
        'erp' as source_name,
        'orders' as table_name,
        _dlt_load_id,
        row_status as row_class
    from {{ ref('base_erp__orders') }}
    where row_status in ('duplicate', 'deleted')

    union all

    select
        'erp' as source_name,
        'order_lines' as table_name,
        _dlt_load_id,
        'bronze' as row_class
    from {{ source('bronze_erp', 'order_lines') }}

    union all

    select
        'erp' as source_name,
        'order_lines' as table_name,
        _dlt_load_id,
        'silver' as row_class
    from {{ ref('stg_erp__order_lines') }}

    union all

    select
        'erp' as source_name,
        'order_lines' as table_name,
        _dlt_load_id,
        'quarantined' as row_class
    from {{ ref('quarantine_erp') }}
    where table_name = 'order_lines'

    union all

    select
        'erp' as source_name,
        'order_lines' as table_name,
        _dlt_load_id,
        row_status as row_class
    from {{ ref('base_erp__order_lines') }}
    where row_status in ('duplicate', 'deleted')

    union all

    select
        'sales' as source_name,
        'sales_lines' as table_name,
        _dlt_load_id,
        'bronze' as row_class
    from {{ source('bronze_sales', 'sales_lines') }}

    union all

    select
        'sales' as source_name,
        'sales_lines' as table_name,
        _dlt_load_id,
        'silver' as row_class
    from {{ ref('stg_sales__sales_lines') }}

    union all

    select
        'sales' as source_name,
        'sales_lines' as table_name,
        _dlt_load_id,
        'quarantined' as row_class
    from {{ ref('quarantine_sales') }}
    where table_name = 'sales_lines'

    union all

    select
        'sales' as source_name,
        'sales_lines' as table_name,
        _dlt_load_id,
        row_status as row_class
    from {{ ref('base_sales__sales_lines') }}
    where row_status in ('duplicate', 'deleted')
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
        sum(case when row_class = 'deleted' then 1 else 0 end) as deleted_rows
    from classified_rows
    group by source_name, table_name, _dlt_load_id
)

select * from final
