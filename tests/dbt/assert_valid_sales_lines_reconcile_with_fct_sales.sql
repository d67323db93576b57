-- Nothing is lost between silver and gold: every valid silver sales line is in fct_sales
-- with its current quantity, and fct_sales holds nothing else. Valid lines are the POS
-- lines of stg_sales__sales_lines and the web order lines of stg_erp__order_lines whose
-- order is not cancelled, plus a return line for every line of a returned order.
-- Returns the lines missing from fct_sales, the lines fct_sales should not hold, and the
-- lines whose quantity differs (a correction that did not reach gold).

with

pos_lines as (
    select * from {{ ref('stg_sales__sales_lines') }}
),

order_lines as (
    select * from {{ ref('stg_erp__order_lines') }}
),

orders as (
    select * from {{ ref('stg_erp__orders') }}
),

fct_sales as (
    select * from {{ ref('fct_sales') }}
),

web_lines as (
    select
        order_lines.order_line_id,
        order_lines.quantity,
        orders.order_status
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    where orders.order_status <> 'cancelled'
),

silver_lines as (
    select
        {{ generate_surrogate_key(["'store'", 'transaction_id', 'line_number']) }}
            as sales_line_key,
        quantity
    from pos_lines

    union all

    select
        {{ generate_surrogate_key(["'online'", 'order_line_id']) }} as sales_line_key,
        quantity
    from web_lines

    union all

    select
        {{ generate_surrogate_key(["'online-return'", 'order_line_id']) }} as sales_line_key,
        -1 * quantity as quantity
    from web_lines
    where order_status = 'returned'
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
