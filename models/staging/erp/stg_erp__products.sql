with

products as (
    select * from {{ ref('base_erp__products') }}
    where row_status = 'valid'
),

categories as (
    select * from {{ ref('product_categories') }}
),

final as (
    select
        products.product_id,
        products.sku,
        products.product_name,
        products.category_label,
        coalesce(categories.product_category, 'Unmapped') as product_category,
        coalesce(categories.department, 'Unmapped') as department,
        {{ as_boolean('categories.product_category is not null') }} as is_category_mapped,
        products.brand,
        products.unit_cost,
        products.list_price,
        products.is_active,
        products.updated_at,
        products._dlt_load_id,
        products._loaded_at
    from products
    left join categories
        on products.category_lookup_key = categories.category_label
)

select * from final
