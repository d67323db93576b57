with

customer_snapshot as (
    select * from {{ scd2_history('snp_crm__customers', 'stg_crm__customers') }}
),

deletions as (
    select * from {{ ref('stg_crm__customer_deletions') }}
),

-- The customer versions the CRM delivered. The snapshot's deletion records are left out:
-- their timestamps are the times the snapshot ran, not CRM times, so they cannot be
-- ordered against versions (a customer re-created after a hard delete would overlap its
-- own deletion record). Hard deletes come from the CRM's deletion log instead.
delivered_versions as (
    select
        customer_snapshot.*,
        lead(customer_snapshot.dbt_valid_from) over (
            partition by customer_snapshot.customer_id
            order by customer_snapshot.dbt_valid_from
        ) as next_version_from
    from customer_snapshot
    where customer_snapshot.dbt_is_deleted = 'False'
),

-- A version is ended by a hard delete when the CRM deleted the customer after the version
-- was written and before any later version (a re-creation under the same id).
versions as (
    select
        delivered_versions.*,
        case
            when deletions.deleted_at >= delivered_versions.dbt_valid_from
                and (
                    delivered_versions.next_version_from is null
                    or deletions.deleted_at < delivered_versions.next_version_from
                )
                then deletions.deleted_at
        end as hard_deleted_at,
        {{ scd2_valid_from(
            'delivered_versions.customer_id', 'delivered_versions.dbt_valid_from'
        ) }} as version_valid_from
    from delivered_versions
    left join deletions
        on delivered_versions.customer_id = deletions.customer_id
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
        {{ as_boolean('versions.hard_deleted_at is not null') }} as is_hard_deleted,
        versions.created_at,
        versions.version_valid_from as valid_from,
        {#- a version closed by a hard delete ends when the CRM deleted the customer, not
            when the snapshot noticed it; a re-created customer starts again at its new
            version, so the time it did not exist belongs to no version -#}
        coalesce(
            versions.hard_deleted_at,
            cast(versions.next_version_from as {{ dbt.type_timestamp() }}),
            {{ scd2_end_of_time() }}
        ) as valid_to,
        {{ as_boolean(
            'versions.next_version_from is null and versions.hard_deleted_at is null'
        ) }} as is_current
    from versions
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
