{#-
    CRM rows that cannot enter silver, with the rule that rejected them. Customers are read
    from int_customer_versions_classified, where a customer version's row_status is final.
-#}

with

customers as (
    select * from {{ ref('int_customer_versions_classified') }}
    where row_status = 'quarantined'
),

customer_deletions as (
    select * from {{ ref('base_crm__customer_deletions') }}
    where row_status = 'quarantined'
),

unioned as (
    select
        'crm' as source_name,
        'customers' as table_name,
        cast(customer_id as {{ dbt.type_string() }}) as record_key,
        quarantine_rule,
        rejected_value,
        _dlt_load_id,
        _loaded_at
    from customers

    union all

    select
        'crm' as source_name,
        'customer_deletions' as table_name,
        cast(customer_id as {{ dbt.type_string() }}) as record_key,
        quarantine_rule,
        rejected_value,
        _dlt_load_id,
        _loaded_at
    from customer_deletions
)

select * from unioned
