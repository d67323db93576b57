{#-
    Sales at line grain from both channels (int_sales_lines_unioned: POS lines and
    web-shop order lines with their returns; cancelled orders are not sales).

    Every line is keyed to the dimension versions valid when it was sold. Incremental:
    each run takes the lines loaded since the last run (per channel), plus lines still
    pointing at an unknown member whose customer, product or store has arrived since
    (late-arriving dimensions; a line still waiting is left as it is, so its day's
    aggregates are not rebuilt for nothing), and replaces them by key (delete+insert,
    merge on Databricks); a corrected sales file's lines are newly loaded, so they
    replace the old ones. Before that, the pre-hook deletes every line that is no longer a
    valid sales line in silver (a line a correction dropped or quarantined, the lines of an
    order cancelled since): the lines int_sales_lines_unioned withdrew since fct_sales'
    last run (macro delete_withdrawn_sales_lines). Where rows cannot be replaced by key (a
    local Spark session without Delta) every run rebuilds the whole table instead.
-#}

{{ config(
    materialized='incremental',
    unique_key='sales_line_key',
    incremental_strategy=incremental_strategy_by_key(),
    on_schema_change='fail',
    pre_hook="{{ delete_withdrawn_sales_lines(ref('int_sales_lines_unioned')) }}",
) }}

{%- set is_slice = is_incremental() and replaces_rows_by_key() %}

with

unioned_lines as (
    select * from {{ ref('int_sales_lines_unioned') }}
    where _withdrawn_at is null
),

dim_customer as (
    select * from {{ ref('dim_customer') }}
),

dim_product as (
    select * from {{ ref('dim_product') }}
),

dim_store as (
    select * from {{ ref('dim_store') }}
),

{% if is_slice %}
loaded_until as (
    select
        coalesce(max(case when channel = 'store' then _loaded_at end), {{ scd2_beginning_of_time() }}) as store_loaded_until,
        coalesce(max(case when channel = 'online' then _loaded_at end), {{ scd2_beginning_of_time() }}) as online_loaded_until
    from {{ this }}
),

waiting_for_dimensions as (
    select
        sales_line_key,
        customer_key,
        product_key,
        store_key
    from {{ this }}
    where (customer_key = {{ unknown_member_key() }} and customer_id is not null)
        or product_key = {{ unknown_member_key() }}
        or store_key = {{ unknown_member_key() }}
),
{% endif %}

{#- the waiting lines are joined, not looked up with `in` under the `or`: PostgreSQL runs
    such a subquery once per line, scanning the waiting lines, when it expects more of them
    than fit in work_mem -#}
sales_lines as (
    select unioned_lines.*
    from unioned_lines
    {% if is_slice %}
    cross join loaded_until
    left join waiting_for_dimensions
        on unioned_lines.sales_line_key = waiting_for_dimensions.sales_line_key
    where (unioned_lines.channel = 'store' and unioned_lines._loaded_at > loaded_until.store_loaded_until)
        or (unioned_lines.channel = 'online' and unioned_lines._loaded_at > loaded_until.online_loaded_until)
        or waiting_for_dimensions.sales_line_key is not null
    {% endif %}
),

keyed as (
    select
        sales_lines.sales_line_key,
        sales_lines.channel,
        sales_lines.sales_document_id,
        sales_lines.transaction_id,
        sales_lines.order_id,
        sales_lines.order_line_id,
        sales_lines.line_number,
        sales_lines.is_return,
        sales_lines.sold_at,
        {{ date_key('sales_lines.sold_at') }} as date_key,
        coalesce(dim_customer.customer_key, {{ unknown_member_key() }}) as customer_key,
        coalesce(dim_product.product_key, {{ unknown_member_key() }}) as product_key,
        coalesce(dim_store.store_key, {{ unknown_member_key() }}) as store_key,
        sales_lines.customer_id,
        sales_lines.product_id,
        sales_lines.sku,
        sales_lines.store_id,
        sales_lines.payment_method,
        sales_lines.quantity,
        sales_lines.unit_price,
        sales_lines.quantity * sales_lines.unit_price as gross_amount,
        {#- a returned line gives its discount back: the refund is the discounted price -#}
        case
            when sales_lines.quantity < 0 then -1 * sales_lines.discount_amount
            else sales_lines.discount_amount
        end as discount_amount,
        sales_lines.quantity * dim_product.unit_cost as cost_amount,
        sales_lines._loaded_at
    from sales_lines
    left join dim_customer
        on sales_lines.customer_id = dim_customer.customer_id
        and sales_lines.sold_at >= dim_customer.valid_from
        and sales_lines.sold_at < dim_customer.valid_to
    left join dim_product
        on sales_lines.product_id = dim_product.product_id
        and sales_lines.sold_at >= dim_product.valid_from
        and sales_lines.sold_at < dim_product.valid_to
    left join dim_store
        on sales_lines.store_id = dim_store.store_id
        and sales_lines.sold_at >= dim_store.valid_from
        and sales_lines.sold_at < dim_store.valid_to
),

{% if is_slice %}
{#- a waiting line is written again only once a member it waits for has arrived -#}
lines_to_write as (
    select keyed.*
    from keyed
    cross join loaded_until
    left join waiting_for_dimensions
        on keyed.sales_line_key = waiting_for_dimensions.sales_line_key
    where (keyed.channel = 'store' and keyed._loaded_at > loaded_until.store_loaded_until)
        or (keyed.channel = 'online' and keyed._loaded_at > loaded_until.online_loaded_until)
        or keyed.customer_key <> waiting_for_dimensions.customer_key
        or keyed.product_key <> waiting_for_dimensions.product_key
        or keyed.store_key <> waiting_for_dimensions.store_key
),
{% else %}
lines_to_write as (
    select * from keyed
),
{% endif %}

final as (
    select
        cast(sales_line_key as {{ type_text() }}) as sales_line_key,
        cast(channel as {{ type_text() }}) as channel,
        cast(sales_document_id as {{ type_text() }}) as sales_document_id,
        cast(transaction_id as {{ type_text() }}) as transaction_id,
        cast(order_id as {{ dbt.type_bigint() }}) as order_id,
        cast(order_line_id as {{ dbt.type_bigint() }}) as order_line_id,
        cast(line_number as {{ dbt.type_int() }}) as line_number,
        cast(is_return as {{ dbt.type_boolean() }}) as is_return,
        cast(sold_at as {{ dbt.type_timestamp() }}) as sold_at,
        cast(date_key as {{ dbt.type_int() }}) as date_key,
        cast(customer_key as {{ type_text() }}) as customer_key,
        cast(product_key as {{ type_text() }}) as product_key,
        cast(store_key as {{ type_text() }}) as store_key,
        cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
        cast(product_id as {{ dbt.type_bigint() }}) as product_id,
        cast(sku as {{ type_text() }}) as sku,
        cast(store_id as {{ dbt.type_bigint() }}) as store_id,
        cast(payment_method as {{ type_text() }}) as payment_method,
        cast(quantity as {{ dbt.type_int() }}) as quantity,
        cast(unit_price as {{ type_amount() }}) as unit_price,
        cast(gross_amount as {{ type_amount() }}) as gross_amount,
        cast(discount_amount as {{ type_amount() }}) as discount_amount,
        cast(gross_amount - discount_amount as {{ type_amount() }}) as net_amount,
        cast(cost_amount as {{ type_amount() }}) as cost_amount,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at,
        {{ built_at() }} as _built_at
    from lines_to_write
)

select * from final
