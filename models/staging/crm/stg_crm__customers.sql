with

customers as (
    select * from {{ ref('base_crm__customers') }}
    where row_status = 'valid'
),

country_codes as (
    select * from {{ ref('country_codes') }}
),

final as (
    select
        customers.customer_id,
        customers.first_name,
        customers.last_name,
        customers.email,
        {{ is_valid_email('customers.email') }} as is_email_valid,
        {{ normalize_phone('customers.phone_raw', 'country_codes.calling_code') }} as phone,
        customers.phone_raw,
        customers.address_line,
        customers.city,
        customers.postal_code,
        country_codes.country_code,
        customers.country_raw,
        customers.loyalty_tier,
        customers.is_marketing_opt_in,
        customers.preferred_channel,
        customers.is_deleted,
        customers.created_at,
        customers.updated_at,
        customers._dlt_load_id,
        customers._loaded_at
    from customers
    left join country_codes
        on customers.country_lookup_key = country_codes.country_spelling
)

select * from final
