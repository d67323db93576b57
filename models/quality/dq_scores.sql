{#-
    Data-quality scores of every silver table, measured on each build and gated by the
    dq_min_completeness / dq_min_uniqueness / dq_min_validity vars (see _quality__models.yml).
-#}

with

scores as (
    {{ dq_table_scores(
        'stg_crm__customers',
        'customer_id',
        ['first_name', 'last_name', 'email', 'phone_raw', 'country_raw', 'created_at', 'updated_at'],
        is_true('is_email_valid') ~ " and phone is not null and country_code is not null",
    ) }}

    union all

    {{ dq_table_scores(
        'stg_crm__customer_deletions',
        'customer_id',
        ['customer_id', 'deleted_at'],
        "deleted_at is not null",
    ) }}

    union all

    {{ dq_table_scores(
        'stg_erp__products',
        'product_id',
        ['sku', 'product_name', 'category_label', 'brand', 'unit_cost', 'list_price', 'updated_at'],
        is_true('is_category_mapped') ~ " and list_price > 0",
    ) }}

    union all

    {{ dq_table_scores(
        'stg_erp__stores',
        'store_id',
        ['store_code', 'store_name', 'store_type', 'region', 'city', 'country_code', 'updated_at'],
        "country_code is not null and store_type in ('physical', 'online')",
    ) }}

    union all

    {{ dq_table_scores(
        'stg_erp__orders',
        'order_id',
        ['store_id', 'order_status', 'ordered_at', 'updated_at'],
        "order_status in ('placed', 'paid', 'shipped', 'delivered', 'cancelled', 'returned')",
    ) }}

    union all

    {{ dq_table_scores(
        'stg_erp__order_lines',
        'order_line_id',
        ['order_id', 'product_id', 'quantity', 'unit_price', 'discount_amount', 'updated_at'],
        "product_id in (select product_id from " ~ ref('stg_erp__products') ~ ")",
    ) }}

    union all

    {{ dq_table_scores(
        'stg_sales__sales_lines',
        'sales_line_id',
        ['transaction_id', 'line_number', 'store_code', 'sku', 'quantity', 'unit_price', 'sold_at', 'payment_method'],
        "sku in (select sku from " ~ ref('stg_erp__products') ~ ")",
    ) }}
),

final as (
    select
        table_name,
        row_count,
        completeness,
        uniqueness,
        validity,
        {{ as_boolean(
            'completeness >= ' ~ var('dq_min_completeness')
            ~ ' and uniqueness >= ' ~ var('dq_min_uniqueness')
            ~ ' and validity >= ' ~ var('dq_min_validity')
        ) }} as is_passing,
        {{ dbt.current_timestamp() }} as measured_at
    from scores
)

select * from final
