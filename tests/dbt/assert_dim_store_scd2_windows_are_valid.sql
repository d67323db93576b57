-- SCD2 integrity of dim_store, per store_id (the unknown member aside):
-- versions never overlap, follow each other without gaps (a version ends exactly where
-- the next one starts), and a key has exactly one current version unless it was deleted in the ERP.
-- Returns the offending versions with the reason.

with

versions as (
    select
        store_id,
        valid_from,
        valid_to,
        is_current,
        {{ boolean_literal(false) }} as is_deleted_key,
        lead(valid_from) over (partition by store_id order by valid_from) as next_valid_from
    from {{ ref('dim_store') }}
    where store_id <> -1
),

window_errors as (
    select
        store_id,
        valid_from,
        case
            when valid_to <= valid_from then 'empty_or_inverted_window'
            when next_valid_from < valid_to then 'overlapping_windows'
            when next_valid_from > valid_to then 'gap_between_windows'
        end as failure
    from versions
),

current_counts as (
    select
        store_id,
        sum(case when {{ is_true('is_current') }} then 1 else 0 end) as current_versions,
        max(case when {{ is_true('is_deleted_key') }} then 1 else 0 end) as is_deleted_key
    from versions
    group by store_id
),

current_errors as (
    select
        store_id,
        cast(null as {{ dbt.type_timestamp() }}) as valid_from,
        case
            when current_versions > 1 then 'more_than_one_current_version'
            when current_versions = 0 and is_deleted_key = 0 then 'no_current_version'
        end as failure
    from current_counts
),

failures as (
    select * from window_errors
    union all
    select * from current_errors
)

select * from failures
where failure is not null
