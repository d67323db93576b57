with

order_lines as (
    select * from {{ ref('base_erp__order_lines') }}
    where row_status = 'valid'
),

final as (
    select
        order_line_id,
        order_id,
        product_id,
        quantity,
        unit_price,
        discount_amount,
        updated_at,
        _dlt_load_id,
        _loaded_at
    from order_lines
)

select * from final
