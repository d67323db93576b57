with

orders as (
    select * from {{ ref('base_erp__orders') }}
    where row_status = 'valid'
),

final as (
    select
        order_id,
        customer_id,
        store_id,
        order_status,
        ordered_at,
        updated_at,
        _dlt_load_id,
        _loaded_at
    from orders
)

select * from final
