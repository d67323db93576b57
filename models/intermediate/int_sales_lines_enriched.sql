{#-
    Sales lines with the store, product category (as it was on the day of sale) and the
    calendar attributes the sales aggregates group by, joined once for all of them.
-#}

with

sales as (
    select * from {{ ref('fct_sales') }}
),

dim_date as (
    select * from {{ ref('dim_date') }}
),

dim_product as (
    select * from {{ ref('dim_product') }}
),

dim_store as (
    select * from {{ ref('dim_store') }}
),

final as (
    select
        sales.sales_line_key,
        sales.date_key,
        cast(sales.sold_at as date) as sale_date,
        dim_date.year_month,
        dim_date.month_start_date,
        dim_date.fiscal_year,
        dim_date.fiscal_month,
        dim_store.store_id,
        dim_store.store_code,
        dim_product.product_category,
        sales.channel,
        sales.sales_document_id,
        sales.customer_key,
        sales.customer_id,
        sales.quantity,
        sales.gross_amount,
        sales.discount_amount,
        sales.net_amount,
        sales.cost_amount,
        sales.is_return
    from sales
    inner join dim_date
        on sales.date_key = dim_date.date_key
    inner join dim_product
        on sales.product_key = dim_product.product_key
    inner join dim_store
        on sales.store_key = dim_store.store_key
)

select * from final
