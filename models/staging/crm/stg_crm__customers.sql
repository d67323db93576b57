{#-
    Current CRM customers, one row per customer, cleansed: the email flagged when
    malformed, the phone in E.164 with the calling code of the customer's country, the
    country as an ISO code (country_codes seed).

    The rows come from int_customer_versions_classified, not from base_crm__customers:
    whether a customer was hard-deleted is decided there (it needs the deletion log), and
    this view must leave hard-deleted customers out for the snapshot to record the delete.
    That intermediate step only adds the final row_status to the base model's rows, so this
    model still reads a single source, the CRM.
-#}

with

customers as (
    select * from {{ ref('int_customer_versions_classified') }}
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
