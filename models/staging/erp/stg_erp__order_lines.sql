{#-
    Valid order lines, one row per line. The rows come from int_order_lines_classified,
    not from base_erp__order_lines: whether a line's order exists is decided there (it
    needs the orders), and this view must leave orphan lines out. That intermediate step
    only adds the final row_status to the base model's rows, so this model still reads a
    single source, the ERP.
-#}

with

order_lines as (
    select * from {{ ref('int_order_lines_classified') }}
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
