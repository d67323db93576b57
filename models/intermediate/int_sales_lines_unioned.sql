{#-
    Sales lines of both channels in one shape, before they are keyed to the dimensions:
    POS lines (channel 'store') and web-shop order lines (channel 'online'). A returned
    web order adds a return line with negative quantity dated when the order was
    returned; POS returns arrive as negative lines. Cancelled orders are not sales: their
    lines are left out. _loaded_at is when the line (or, online, its order) last arrived.
    POS lines find their product by SKU and their store by store code here; a store or
    SKU the ERP does not know (yet) leaves store_id or product_id null, and fct_sales
    keys the line to the unknown member until it arrives.

    Incremental, so a day writes the day's lines only (fct_sales, the reconciliation test
    and the key tests read a stored table). A run takes the POS lines silver classified
    since the last run (new lines, and the held lines a new delivery can change), the web
    lines whose line or order was loaded since, and the held lines whose product or store
    lookup now gives another answer (a late product or store, a SKU or code given to
    another), and replaces them by key. Before that, the pre-hook withdraws the lines
    that are no longer sales lines (macro withdraw_sales_lines): it stamps them with
    _withdrawn_at and keeps them, so fct_sales deletes exactly those instead of comparing
    all its keys with all of these; every reader takes the lines where _withdrawn_at is
    null. A line written again replaces its withdrawn row. Where rows cannot be replaced by
    key (a local Spark session without Delta) every run rebuilds the table and nothing is
    withdrawn.
-#}

{{ config(
    materialized='incremental',
    unique_key='sales_line_key',
    incremental_strategy=incremental_strategy_by_key(),
    on_schema_change='fail',
    pre_hook="{{ withdraw_sales_lines() }}",
) }}

-- depends_on: {{ ref('base_sales__sales_lines') }}

{%- set is_slice = is_incremental() and replaces_rows_by_key() %}
{%- set pos_columns = [
    'transaction_id', 'line_number', 'store_code', 'customer_id', 'sku', 'quantity',
    'unit_price', 'discount_amount', 'is_return', 'sold_at', 'payment_method', '_loaded_at',
] %}

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

{% if is_slice %}
{#- the held lines are read where they are used, not through a CTE: DuckDB stores a CTE
    that is read more than once whole, here every held line with all its columns; lines
    withdrawn earlier (_withdrawn_at) are not held lines -#}

last_run as (
    select
        coalesce(max(_built_at), {{ scd2_beginning_of_time() }}) as built_until,
        coalesce(
            max(case when channel = 'online' then _loaded_at end),
            {{ scd2_beginning_of_time() }}
        ) as online_loaded_until
    from {{ this }} as held_lines
    where held_lines._withdrawn_at is null
),

reclassified_pos_lines as (
    select pos_lines.*
    from pos_lines
    cross join last_run
    where pos_lines._classified_at > last_run.built_until
),

relooked_pos_lines as (
    select held_lines.*
    from {{ this }} as held_lines
    left join products
        on held_lines.sku = products.sku
    left join stores
        on held_lines.store_code = stores.store_code
    where held_lines.channel = 'store'
        and held_lines._withdrawn_at is null
        and (
            coalesce(held_lines.product_id, -1) <> coalesce(products.product_id, -1)
            or coalesce(held_lines.store_id, -1) <> coalesce(stores.store_id, -1)
        )
        and not exists (
            select 1
            from reclassified_pos_lines
            where reclassified_pos_lines.transaction_id = held_lines.transaction_id
                and reclassified_pos_lines.line_number = held_lines.line_number
        )
),

pos_lines_to_write as (
    select {{ pos_columns | join(', ') }} from reclassified_pos_lines
    union all
    select {{ pos_columns | join(', ') }} from relooked_pos_lines
),

relooked_order_lines as (
    select held_lines.order_line_id
    from {{ this }} as held_lines
    left join products
        on held_lines.product_id = products.product_id
    where held_lines.channel = 'online'
        and held_lines._withdrawn_at is null
        and coalesce(held_lines.sku, '') <> coalesce(products.sku, '')
),
{% else %}
pos_lines_to_write as (
    select {{ pos_columns | join(', ') }} from pos_lines
),
{% endif %}

store_sales as (
    select
        {{ generate_surrogate_key([
            "'store'", 'pos_lines_to_write.transaction_id', 'pos_lines_to_write.line_number'
        ]) }} as sales_line_key,
        'store' as channel,
        pos_lines_to_write.transaction_id as sales_document_id,
        pos_lines_to_write.transaction_id,
        cast(null as {{ dbt.type_bigint() }}) as order_id,
        cast(null as {{ dbt.type_bigint() }}) as order_line_id,
        pos_lines_to_write.line_number,
        pos_lines_to_write.is_return,
        pos_lines_to_write.sold_at,
        pos_lines_to_write.customer_id,
        products.product_id,
        pos_lines_to_write.sku,
        pos_lines_to_write.store_code,
        stores.store_id,
        pos_lines_to_write.payment_method,
        pos_lines_to_write.quantity,
        pos_lines_to_write.unit_price,
        pos_lines_to_write.discount_amount,
        pos_lines_to_write._loaded_at
    from pos_lines_to_write
    left join products
        on pos_lines_to_write.sku = products.sku
    left join stores
        on pos_lines_to_write.store_code = stores.store_code
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
    {% if is_slice %}
    cross join last_run
    {% endif %}
    where orders.order_status <> 'cancelled'
    {% if is_slice %}
        and (
            orders._loaded_at > last_run.online_loaded_until
            or order_lines._loaded_at > last_run.online_loaded_until
            or order_lines.order_line_id in (select order_line_id from relooked_order_lines)
        )
    {% endif %}
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
        cast(null as {{ dbt.type_string() }}) as store_code,
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
),

final as (
    select
        unioned.*,
        {{ built_at() }} as _built_at,
        cast(null as {{ dbt.type_timestamp() }}) as _withdrawn_at
    from unioned
)

select * from final
