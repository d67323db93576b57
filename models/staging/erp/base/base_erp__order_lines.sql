{#-
    Every order line in bronze (merged on order_line_id by dlt), typed and classified by
    the rules of this table alone. Rules, first match wins: null_key (line, order or
    product id missing), impossible_quantity (quantity < 1), impossible_amount (negative
    or missing price, negative discount), amount_out_of_range (price above var
    max_unit_price), quantity_out_of_range (more than var max_quantity),
    discount_exceeds_gross (discount above quantity x unit price). Lines for an unknown
    product are kept: gold points them at the unknown member.

    Whether the line's order exists (rule orphan_order) needs a second table, the orders,
    so int_order_lines_classified checks it and gives the final row_status. Read that
    model, not this one, for silver, quarantine and reconciliation.
-#}

with

order_lines as (
    select * from {{ source('bronze_erp', 'order_lines') }}
),

typed as (
    select
        cast(order_line_id as {{ dbt.type_bigint() }}) as order_line_id,
        cast(order_id as {{ dbt.type_bigint() }}) as order_id,
        cast(product_id as {{ dbt.type_bigint() }}) as product_id,
        cast(quantity as {{ dbt.type_int() }}) as quantity,
        cast(unit_price as {{ type_amount() }}) as unit_price,
        cast(coalesce(discount_amount, 0) as {{ type_amount() }}) as discount_amount,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        _dlt_load_id,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from order_lines
),

ranked as (
    select
        typed.*,
        row_number() over (
            partition by typed.order_line_id
            order by typed.updated_at desc, typed._loaded_at desc, typed._dlt_load_id desc
        ) as version_rank
    from typed
),

with_rule as (
    select
        ranked.*,
        case
            when ranked.order_line_id is null
                or ranked.order_id is null
                or ranked.product_id is null
                then 'null_key'
            when ranked.quantity is null or ranked.quantity < 1 then 'impossible_quantity'
            when ranked.unit_price is null
                or ranked.unit_price < 0
                or ranked.discount_amount < 0
                then 'impossible_amount'
            when ranked.unit_price > {{ var('max_unit_price') }} then 'amount_out_of_range'
            when ranked.quantity > {{ var('max_quantity') }} then 'quantity_out_of_range'
            when ranked.discount_amount > ranked.quantity * ranked.unit_price
                then 'discount_exceeds_gross'
        end as quarantine_rule
    from ranked
),

classified as (
    select
        with_rule.*,
        {{ row_status('with_rule.quarantine_rule', 'with_rule.version_rank') }} as row_status
    from with_rule
)

select * from classified
