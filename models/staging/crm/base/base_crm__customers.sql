{#-
    Every customer version the CRM delivered, typed and classified by the rules of this
    table alone. The CRM table is append-only, so one customer has many rows: the latest
    version is valid, older ones are counted as duplicates. A version with a value that
    did not fit its column's type (dlt put it in a variant column) is quarantined as
    type_conflict, and the customer keeps its latest valid version.

    Hard deletes are not decided here: they need the CRM's deletion log, a second table,
    so int_customer_versions_classified joins it and gives the final row_status (valid
    can become deleted). Read that model, not this one, for silver, quarantine and
    reconciliation.

    Incremental, so a day cleans only the day's versions: each run types the loads it has
    not seen yet and ranks them again together with the held versions of the customers
    they touch (a new version turns the previous one into a duplicate); those held rows are
    replaced by their bronze row id. Changing a cleansing macro needs a --full-refresh.
-#}

{{ config(
    materialized='incremental',
    unique_key=['_dlt_load_id', '_dlt_id'],
    incremental_strategy=incremental_strategy_by_key(),
    on_schema_change='fail',
) }}

{%- set is_slice = is_incremental() and replaces_rows_by_key() %}
{%- set typed_columns = [
    'customer_id', 'first_name', 'last_name', 'email', 'phone_raw', 'address_line', 'city',
    'postal_code', 'country_raw', 'country_lookup_key', 'loyalty_tier', 'is_marketing_opt_in',
    'created_at', 'updated_at', 'is_deleted', 'preferred_channel', '_dlt_load_id', '_dlt_id',
    '_loaded_at', 'type_conflict_value',
] %}

with

customers as (
    select * from {{ source('bronze_crm', 'customers') }}
    {% if is_slice %}
    where {{ loads_not_yet_held() }}
    {% endif %}
),

typed as (
    select
        cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
        {{ title_case('first_name') }} as first_name,  -- noqa: PRS
        {{ title_case('last_name') }} as last_name,  -- noqa: PRS
        {{ normalize_email('email') }} as email,
        {{ clean_text('phone') }} as phone_raw,
        {{ clean_text('address_line') }} as address_line,
        {{ title_case('city') }} as city,  -- noqa: PRS
        upper({{ clean_text('postal_code') }}) as postal_code,
        {{ clean_text('country') }} as country_raw,
        {{ country_lookup_key('country') }} as country_lookup_key,
        lower({{ clean_text('loyalty_tier') }}) as loyalty_tier,
        cast(marketing_opt_in as {{ dbt.type_boolean() }}) as is_marketing_opt_in,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        coalesce(
            cast(is_deleted as {{ dbt.type_boolean() }}), {{ boolean_literal(false) }}
        ) as is_deleted,
        lower(
            {{ clean_text(column_if_exists(
                source('bronze_crm', 'customers'), 'preferred_channel', dbt.type_string()
            )) }}
        ) as preferred_channel,
        _dlt_load_id,
        _dlt_id,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at,
        {{ type_conflict_value(source('bronze_crm', 'customers')) }} as type_conflict_value
    from customers
),

{% if is_slice %}
{#- the held versions that share a ranking partition with a new one: the same customer,
    or no customer at all (null_key versions are ranked among themselves) #}
held_versions_to_rank as (
    select {{ typed_columns | join(', ') }}
    from {{ this }} as held
    where held.customer_id in (
        select typed.customer_id from typed where typed.customer_id is not null
    )
    or (
        held.customer_id is null
        and exists (select 1 from typed where typed.customer_id is null)
    )
),

versions as (
    select * from typed
    union all
    select * from held_versions_to_rank
),
{% else %}
versions as (
    select * from typed
),
{% endif %}

screened as (
    select
        versions.*,
        case
            when versions.type_conflict_value is not null then 'type_conflict'
            when versions.customer_id is null then 'null_key'
        end as quarantine_rule
    from versions
),

-- quarantined versions are ranked apart: they never displace a customer's valid version
ranked as (
    select
        screened.*,
        row_number() over (
            partition by screened.customer_id, screened.quarantine_rule
            order by screened.updated_at desc, screened._loaded_at desc, screened._dlt_load_id desc
        ) as version_rank
    from screened
),

classified as (
    select
        ranked.*,
        case
            when ranked.quarantine_rule is not null then 'quarantined'
            when ranked.version_rank > 1 then 'duplicate'
            else 'valid'
        end as row_status,
        case
            when ranked.quarantine_rule = 'type_conflict' then ranked.type_conflict_value
            when ranked.quarantine_rule is not null then ranked.email
        end as rejected_value,
        {{ built_at() }} as _built_at
    from ranked
)

select * from classified
