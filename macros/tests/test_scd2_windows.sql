{#-
    SCD2 integrity of a dimension, per natural key (the unknown member, key -1, aside):
    versions never overlap, follow each other without gaps (a version ends exactly where the
    next one starts; only a version ended by a deletion may leave a gap, until the key is
    re-created), and a key has exactly one current version unless its latest version was
    deleted.
    Returns the offending versions with the reason. deleted_flag names the column that says
    a key was deleted at its source (its closed history then has no current version).
-#}
{% test scd2_windows(model, natural_key, deleted_flag=none) %}

with

versions as (
    select
        {{ natural_key }} as natural_key,
        valid_from,
        valid_to,
        is_current,
        {% if deleted_flag -%}
        {{ deleted_flag }} as is_deleted_key,
        {%- else -%}
        {{ boolean_literal(false) }} as is_deleted_key,
        {%- endif %}
        lead(valid_from) over (
            partition by {{ natural_key }} order by valid_from
        ) as next_valid_from
    from {{ model }}
    where {{ natural_key }} <> -1
),

window_errors as (
    select
        natural_key,
        valid_from,
        case
            when valid_to <= valid_from then 'empty_or_inverted_window'
            when next_valid_from < valid_to then 'overlapping_windows'
            when next_valid_from > valid_to and not {{ is_true('is_deleted_key') }}
                then 'gap_between_windows'
        end as failure
    from versions
),

current_counts as (
    select
        natural_key,
        sum(case when {{ is_true('is_current') }} then 1 else 0 end) as current_versions,
        max(
            case
                when next_valid_from is null and {{ is_true('is_deleted_key') }} then 1 else 0
            end
        ) as is_deleted_key
    from versions
    group by natural_key
),

current_errors as (
    select
        natural_key,
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

{% endtest %}
