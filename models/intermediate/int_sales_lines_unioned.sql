{#-
    Sales lines of both channels in one shape, before they are keyed to the dimensions:
    POS lines (channel 'store') and web-shop order lines (channel 'online'). A returned
    web order adds a return line with negative quantity dated when the order was
    returned; POS returns arrive as negative lines. Cancelled orders are not sales: their
    lines are left out. _loaded_at is when the line (or, online, its order) last arrived.
    POS lines find their product by SKU and their store by store code here; a store or
    SKU the ERP does not know (yet) leaves store_id or product_id null, and fct_sales
    keys the line to the unknown member until it arrives.

    A table, rebuilt on every run: fct_sales (its slice and its clean-up of lines no longer
    valid), the reconciliation test and the key tests all read it, and as a view each of
    them would compute the keys of every line of history again.
-#}

{{ config(materialized='table') }}

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

products as (
    select * from {{ ref('stg_erp__products') }}
),

stores as (
    select * from {{ ref('stg_erp__stores') }}
),

store_sales as (
    select
        {{ generate_surrogate_key([
            "'store'", 'pos_lines.transaction_id', 'pos_lines.line_number'
        ]) }} as sales_line_key,
        'store' as channel,
        pos_lines.transaction_id as sales_document_id,
        pos_lines.transaction_id,
        cast(null as {{ dbt.type_bigint() }}) as order_id,
        cast(null as {{ dbt.type_bigint() }}) as order_line_id,
        pos_lines.line_number,
        pos_lines.is_return,
        pos_lines.sold_at,
        pos_lines.customer_id,
        products.product_id,
        pos_lines.sku,
        stores.store_id,
        pos_lines.payment_method,
        pos_lines.quantity,
        pos_lines.unit_price,
        pos_lines.discount_amount,
        pos_lines._loaded_at
    from pos_lines
    left join products
        on pos_lines.sku = products.sku
    left join stores
        on pos_lines.store_code = stores.store_code
),

online_lines as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.product_id,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.discount_amount,
        orders.customer_id,
        orders.store_id,
        orders.order_status,
        orders.ordered_at,
        orders.updated_at as order_updated_at,
        products.sku,
        case
            when orders._loaded_at > order_lines._loaded_at then orders._loaded_at
            else order_lines._loaded_at
        end as _loaded_at
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join products
        on order_lines.product_id = products.product_id
    where orders.order_status <> 'cancelled'
),

online_sales_and_returns as (
    select
        {{ generate_surrogate_key(["'online'", 'order_line_id']) }} as sales_line_key,
        order_id,
        order_line_id,
        {{ boolean_literal(false) }} as is_return,
        ordered_at as sold_at,
        customer_id,
        product_id,
        sku,
        store_id,
        quantity,
        unit_price,
        discount_amount,
        _loaded_at
    from online_lines

    union all

    select
        {{ generate_surrogate_key(["'online-return'", 'order_line_id']) }} as sales_line_key,
        order_id,
        order_line_id,
        {{ boolean_literal(true) }} as is_return,
        order_updated_at as sold_at,
        customer_id,
        product_id,
        sku,
        store_id,
        -1 * quantity as quantity,
        unit_price,
        discount_amount,
        _loaded_at
    from online_lines
    where order_status = 'returned'
),

online_sales as (
    select
        sales_line_key,
        'online' as channel,
        cast(order_id as {{ dbt.type_string() }}) as sales_document_id,
        cast(null as {{ dbt.type_string() }}) as transaction_id,
        order_id,
        order_line_id,
        cast(null as {{ dbt.type_int() }}) as line_number,
        is_return,
        sold_at,
        customer_id,
        product_id,
        sku,
        store_id,
        cast(null as {{ dbt.type_string() }}) as payment_method,
        quantity,
        unit_price,
        discount_amount,
        _loaded_at
    from online_sales_and_returns
),

unioned as (
    select * from store_sales
    union all
    select * from online_sales
)

select * from unioned
