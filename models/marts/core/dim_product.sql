with

product_snapshot as (
    select * from {{ scd2_history('snp_erp__products', 'stg_erp__products') }}
),

versions as (
    select
        product_snapshot.*,
        {{ scd2_valid_from('product_snapshot.product_id') }} as version_valid_from
    from product_snapshot
    where product_snapshot.dbt_is_deleted = 'False'
),

product_versions as (
    select
        {{ generate_surrogate_key(['product_id', 'dbt_valid_from']) }} as product_key,
        product_id,
        sku,
        product_name,
        category_label,
        product_category,
        department,
        brand,
        unit_cost,
        list_price,
        is_active,
        version_valid_from as valid_from,
        coalesce(cast(dbt_valid_to as {{ dbt.type_timestamp() }}), {{ scd2_end_of_time() }})
            as valid_to,
        {{ as_boolean('dbt_valid_to is null') }} as is_current
    from versions
),

unknown_member as (
    select
        {{ unknown_member_key() }} as product_key,
        cast(-1 as {{ dbt.type_bigint() }}) as product_id,
        'UNKNOWN' as sku,
        'Unknown product' as product_name,
        cast(null as {{ dbt.type_string() }}) as category_label,
        'Unknown' as product_category,
        'Unknown' as department,
        cast(null as {{ dbt.type_string() }}) as brand,
        cast(null as {{ type_amount() }}) as unit_cost,
        cast(null as {{ type_amount() }}) as list_price,
        {{ boolean_literal(false) }} as is_active,
        {{ scd2_beginning_of_time() }} as valid_from,
        {{ scd2_end_of_time() }} as valid_to,
        {{ boolean_literal(true) }} as is_current
),

unioned as (
    select * from product_versions
    union all
    select * from unknown_member
),

final as (
    select
        cast(product_key as {{ type_text() }}) as product_key,
        cast(product_id as {{ dbt.type_bigint() }}) as product_id,
        cast(sku as {{ type_text() }}) as sku,
        cast(product_name as {{ type_text() }}) as product_name,
        cast(category_label as {{ type_text() }}) as category_label,
        cast(product_category as {{ type_text() }}) as product_category,
        cast(department as {{ type_text() }}) as department,
        cast(brand as {{ type_text() }}) as brand,
        cast(unit_cost as {{ type_amount() }}) as unit_cost,
        cast(list_price as {{ type_amount() }}) as list_price,
        cast(is_active as {{ dbt.type_boolean() }}) as is_active,
        cast(valid_from as {{ dbt.type_timestamp() }}) as valid_from,
        cast(valid_to as {{ dbt.type_timestamp() }}) as valid_to,
        cast(is_current as {{ dbt.type_boolean() }}) as is_current
    from unioned
)

select * from final
