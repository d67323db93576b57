with

stores as (
    select * from {{ ref('base_erp__stores') }}
    where row_status = 'valid'
),

country_codes as (
    select * from {{ ref('country_codes') }}
),

final as (
    select
        stores.store_id,
        stores.store_code,
        stores.store_name,
        stores.store_type,
        stores.region,
        stores.city,
        country_codes.country_code,
        stores.opened_on,
        stores.updated_at,
        stores._dlt_load_id,
        stores._loaded_at
    from stores
    left join country_codes
        on stores.country_lookup_key = country_codes.country_spelling
)

select * from final
