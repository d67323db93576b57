with

customer_snapshot as (
    select * from {{ scd2_history('snp_crm__customers', 'stg_crm__customers') }}
),

deletions as (
    select * from {{ ref('stg_crm__customer_deletions') }}
),

sequenced as (
    select
        customer_snapshot.*,
        lead(customer_snapshot.dbt_is_deleted) over (
            partition by customer_snapshot.customer_id
            order by customer_snapshot.dbt_valid_from
        ) as next_version_is_deletion
    from customer_snapshot
),

versions as (
    select
        sequenced.*,
        {{ scd2_valid_from('sequenced.customer_id') }} as version_valid_from
    from sequenced
    where sequenced.dbt_is_deleted = 'False'
),

customer_versions as (
    select
        {{ generate_surrogate_key(['versions.customer_id', 'versions.dbt_valid_from']) }}
            as customer_key,
        versions.customer_id,
        versions.first_name,
        versions.last_name,
        versions.email,
        versions.is_email_valid,
        versions.phone,
        versions.address_line,
        versions.city,
        versions.postal_code,
        versions.country_code,
        versions.loyalty_tier,
        versions.is_marketing_opt_in,
        versions.preferred_channel,
        versions.is_deleted as is_soft_deleted,
        {{ as_boolean("versions.next_version_is_deletion = 'True'") }} as is_hard_deleted,
        versions.created_at,
        versions.version_valid_from as valid_from,
        {#- a version closed by a hard delete ends when the CRM deleted the customer,
            not when the snapshot noticed it -#}
        case
            when versions.next_version_is_deletion = 'True'
                and deletions.deleted_at >= versions.version_valid_from
                and deletions.deleted_at <= versions.dbt_valid_to
                then deletions.deleted_at
            else coalesce(
                    cast(versions.dbt_valid_to as {{ dbt.type_timestamp() }}),
                    {{ scd2_end_of_time() }}
                )
        end as valid_to,
        {{ as_boolean('versions.dbt_valid_to is null') }} as is_current
    from versions
    left join deletions
        on versions.customer_id = deletions.customer_id
),

unknown_member as (
    select
        {{ unknown_member_key() }} as customer_key,
        cast(-1 as {{ dbt.type_bigint() }}) as customer_id,
        'Unknown' as first_name,
        'Unknown' as last_name,
        cast(null as {{ dbt.type_string() }}) as email,
        {{ boolean_literal(false) }} as is_email_valid,
        cast(null as {{ dbt.type_string() }}) as phone,
        cast(null as {{ dbt.type_string() }}) as address_line,
        cast(null as {{ dbt.type_string() }}) as city,
        cast(null as {{ dbt.type_string() }}) as postal_code,
        cast(null as {{ dbt.type_string() }}) as country_code,
        'unknown' as loyalty_tier,
        {{ boolean_literal(false) }} as is_marketing_opt_in,
        cast(null as {{ dbt.type_string() }}) as preferred_channel,
        {{ boolean_literal(false) }} as is_soft_deleted,
        {{ boolean_literal(false) }} as is_hard_deleted,
        cast(null as {{ dbt.type_timestamp() }}) as created_at,
        {{ scd2_beginning_of_time() }} as valid_from,
        {{ scd2_end_of_time() }} as valid_to,
        {{ boolean_literal(true) }} as is_current
),

unioned as (
    select * from customer_versions
    union all
    select * from unknown_member
),

final as (
    select
        cast(customer_key as {{ type_text() }}) as customer_key,
        cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
        cast(first_name as {{ type_text() }}) as first_name,
        cast(last_name as {{ type_text() }}) as last_name,
        cast(
            {{ dbt.concat(["coalesce(first_name, '')", "' '", "coalesce(last_name, '')"]) }}
            as {{ type_text() }}
        ) as full_name,
        cast(email as {{ type_text() }}) as email,
        cast(is_email_valid as {{ dbt.type_boolean() }}) as is_email_valid,
        cast(phone as {{ type_text() }}) as phone,
        cast(address_line as {{ type_text() }}) as address_line,
        cast(city as {{ type_text() }}) as city,
        cast(postal_code as {{ type_text() }}) as postal_code,
        cast(country_code as {{ type_text() }}) as country_code,
        cast(loyalty_tier as {{ type_text() }}) as loyalty_tier,
        cast(is_marketing_opt_in as {{ dbt.type_boolean() }}) as is_marketing_opt_in,
        cast(preferred_channel as {{ type_text() }}) as preferred_channel,
        cast(is_soft_deleted as {{ dbt.type_boolean() }}) as is_soft_deleted,
        cast(is_hard_deleted as {{ dbt.type_boolean() }}) as is_hard_deleted,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(valid_from as {{ dbt.type_timestamp() }}) as valid_from,
        cast(valid_to as {{ dbt.type_timestamp() }}) as valid_to,
        cast(is_current as {{ dbt.type_boolean() }}) as is_current
    from unioned
)

select * from final
