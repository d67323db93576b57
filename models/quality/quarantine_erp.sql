{#-
    ERP rows that cannot enter silver, with the rule that rejected them. Order lines are
    read from int_order_lines_classified, where an order line's row_status is final
    (orphan_order included).
-#}

with

products as (
    select * from {{ ref('base_erp__products') }}
    where row_status = 'quarantined'
),

stores as (
    select * from {{ ref('base_erp__stores') }}
    where row_status = 'quarantined'
),

orders as (
    select * from {{ ref('base_erp__orders') }}
    where row_status = 'quarantined'
),

order_lines as (
    select * from {{ ref('int_order_lines_classified') }}
    where row_status = 'quarantined'
),

unioned as (
    select
        'erp' as source_name,
        'products' as table_name,
        cast(product_id as {{ dbt.type_string() }}) as record_key,
        quarantine_rule,
        cast(list_price as {{ dbt.type_string() }}) as rejected_value,
        _dlt_load_id,
        _loaded_at
    from products

    union all

    select
        'erp' as source_name,
        'stores' as table_name,
        cast(store_id as {{ dbt.type_string() }}) as record_key,
        quarantine_rule,
        store_code as rejected_value,
        _dlt_load_id,
        _loaded_at
    from stores

    union all

    select
        'erp' as source_name,
        'orders' as table_name,
        cast(order_id as {{ dbt.type_string() }}) as record_key,
        quarantine_rule,
        case
            when quarantine_rule in ('unparseable_date', 'date_out_of_range')
                then {{ dbt.concat([
                    "coalesce(cast(ordered_at as " ~ dbt.type_string() ~ "), '')",
                    "' / '",
                    "coalesce(cast(updated_at as " ~ dbt.type_string() ~ "), '')",
                ]) }}
            when quarantine_rule = 'null_key' then cast(store_id as {{ dbt.type_string() }})
            else order_status
        end as rejected_value,
        _dlt_load_id,
        _loaded_at
    from orders

    union all

    select
        'erp' as source_name,
        'order_lines' as table_name,
        cast(order_line_id as {{ dbt.type_string() }}) as record_key,
        quarantine_rule,
        case
            when quarantine_rule = 'orphan_order' then cast(order_id as {{ dbt.type_string() }})
            when quarantine_rule = 'null_key' then cast(product_id as {{ dbt.type_string() }})
            when quarantine_rule in ('impossible_amount', 'amount_out_of_range')
                then cast(unit_price as {{ dbt.type_string() }})
            when quarantine_rule = 'discount_exceeds_gross'
                then cast(discount_amount as {{ dbt.type_string() }})
            else cast(quantity as {{ dbt.type_string() }})
        end as rejected_value,
        _dlt_load_id,
        _loaded_at
    from order_lines
)

select * from unioned
