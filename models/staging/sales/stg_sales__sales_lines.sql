with

sales_lines as (
    select * from {{ ref('base_sales__sales_lines') }}
    where row_status = 'valid'
),

final as (
    select
        sales_line_id,
        transaction_id,
        line_number,
        store_code,
        customer_id,
        sku,
        quantity,
        unit_price,
        discount_amount,
        {{ as_boolean('quantity < 0') }} as is_return,
        sold_at,
        payment_method,
        _source_file,
        _source_row,
        _dlt_load_id,
        _loaded_at,
        _built_at as _classified_at
    from sales_lines
)

select * from final
