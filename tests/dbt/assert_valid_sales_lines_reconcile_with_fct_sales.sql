-- Nothing is lost between silver and gold: every valid silver sales line of both channels
-- (int_sales_lines_unioned: POS lines, web order lines of orders not cancelled, and a
-- return line for every line of a returned order; not the lines it withdrew) is in
-- fct_sales with its current quantity, and fct_sales holds nothing else. fct_sales is
-- incremental, so this checks that its increments, corrections and deletions add up to
-- the whole.
-- Returns the lines missing from fct_sales, the lines fct_sales should not hold, and the
-- lines whose quantity differs (a correction that did not reach gold).

with

silver_lines as (
    select * from {{ ref('int_sales_lines_unioned') }}
    where _withdrawn_at is null
),

fct_sales as (
    select * from {{ ref('fct_sales') }}
),

final as (
    select
        coalesce(silver_lines.sales_line_key, fct_sales.sales_line_key) as sales_line_key,
        silver_lines.quantity as silver_quantity,
        fct_sales.quantity as gold_quantity,
        case
            when fct_sales.sales_line_key is null then 'missing_from_fct_sales'
            when silver_lines.sales_line_key is null then 'not_a_valid_silver_line'
            else 'quantity_differs'
        end as failure
    from silver_lines
    full outer join fct_sales
        on silver_lines.sales_line_key = fct_sales.sales_line_key
    where silver_lines.sales_line_key is null
        or fct_sales.sales_line_key is null
        or silver_lines.quantity <> fct_sales.quantity
)

select * from final
