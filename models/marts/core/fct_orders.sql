{#-
    Web-shop orders at order grain with their current status, line counts and amounts
    (valid lines only; lines in quarantine are counted separately). Customer and store
    are keyed to the versions valid when the order was placed.
-#}

with

orders as (
    select * from {{ ref('stg_erp__orders') }}
),

order_lines as (
    select * from {{ ref('stg_erp__order_lines') }}
),

quarantined_lines as (
    select * from {{ ref('int_order_lines_classified') }}
    where row_status = 'quarantined'
),

dim_customer as (
    select * from {{ ref('dim_customer') }}
),

dim_store as (
    select * from {{ ref('dim_store') }}
),

line_totals as (
    select
        order_id,
        count(*) as line_count,
        sum(quantity) as total_quantity,
        sum(quantity * unit_price) as gross_amount,
        sum(discount_amount) as discount_amount
    from order_lines
    group by order_id
),

quarantined_totals as (
    select
        order_id,
        count(*) as quarantined_line_count
    from quarantined_lines
    where order_id is not null
    group by order_id
),

final as (
    select
        cast({{ generate_surrogate_key(['orders.order_id']) }} as {{ type_text() }}) as order_key,
        cast(orders.order_id as {{ dbt.type_bigint() }}) as order_id,
        cast(coalesce(dim_customer.customer_key, {{ unknown_member_key() }}) as {{ type_text() }})
            as customer_key,
        cast(coalesce(dim_store.store_key, {{ unknown_member_key() }}) as {{ type_text() }})
            as store_key,
        cast({{ date_key('orders.ordered_at') }} as {{ dbt.type_int() }}) as order_date_key,
        cast(orders.customer_id as {{ dbt.type_bigint() }}) as customer_id,
        cast(orders.store_id as {{ dbt.type_bigint() }}) as store_id,
        cast(orders.order_status as {{ type_text() }}) as order_status,
        cast({{ as_boolean("orders.order_status = 'cancelled'") }} as {{ dbt.type_boolean() }})
            as is_cancelled,
        cast({{ as_boolean("orders.order_status = 'returned'") }} as {{ dbt.type_boolean() }})
            as is_returned,
        cast(
            {{ as_boolean("orders.order_status in ('delivered', 'returned', 'cancelled')") }}
            as {{ dbt.type_boolean() }}
        ) as is_closed,
        cast(orders.ordered_at as {{ dbt.type_timestamp() }}) as ordered_at,
        cast(orders.updated_at as {{ dbt.type_timestamp() }}) as status_updated_at,
        cast(coalesce(line_totals.line_count, 0) as {{ dbt.type_int() }}) as line_count,
        cast(coalesce(quarantined_totals.quarantined_line_count, 0) as {{ dbt.type_int() }})
            as quarantined_line_count,
        cast(coalesce(line_totals.total_quantity, 0) as {{ dbt.type_int() }}) as total_quantity,
        cast(coalesce(line_totals.gross_amount, 0) as {{ type_amount() }}) as gross_amount,
        cast(coalesce(line_totals.discount_amount, 0) as {{ type_amount() }}) as discount_amount,
        cast(
            coalesce(line_totals.gross_amount, 0)
            - coalesce(line_totals.discount_amount, 0) as {{ type_amount() }}
        ) as net_amount
    from orders
    left join line_totals
        on orders.order_id = line_totals.order_id
    left join quarantined_totals
        on orders.order_id = quarantined_totals.order_id
    left join dim_customer
        on orders.customer_id = dim_customer.customer_id
        and orders.ordered_at >= dim_customer.valid_from
        and orders.ordered_at < dim_customer.valid_to
    left join dim_store
        on orders.store_id = dim_store.store_id
        and orders.ordered_at >= dim_store.valid_from
        and orders.ordered_at < dim_store.valid_to
)

select * from final
