{#-
    The calendar from var('calendar_start_date') to var('calendar_end_date'), one row per
    day, with ISO weeks and a fiscal calendar starting in var('fiscal_year_start_month')
    (1 February by default). A fiscal year is named after the calendar year it starts
    in: FY2025 runs from 1 Feb 2025 to 31 Jan 2026. Days come from a cross join of
    digits instead of a recursive or engine-specific series, so it runs everywhere.
-#}

{%- set fiscal_start = var('fiscal_year_start_month') | int -%}
{%- set calendar_start = "cast('" ~ var('calendar_start_date') ~ "' as date)" -%}
{%- set calendar_end = "cast('" ~ var('calendar_end_date') ~ "' as date)" -%}

with

digits as (
    select 0 as digit
    union all
    select 1 as digit
    union all
    select 2 as digit
    union all
    select 3 as digit
    union all
    select 4 as digit
    union all
    select 5 as digit
    union all
    select 6 as digit
    union all
    select 7 as digit
    union all
    select 8 as digit
    union all
    select 9 as digit
),

day_numbers as (
    select
        thousands.digit * 1000
        + hundreds.digit * 100
        + tens.digit * 10
        + units.digit as day_number
    from digits as thousands
    cross join digits as hundreds
    cross join digits as tens
    cross join digits as units
),

days as (
    select cast({{ dbt.dateadd('day', 'day_number', calendar_start) }} as date) as date_day
    from day_numbers
    where day_number <= {{ dbt.datediff(calendar_start, calendar_end, 'day') }}
),

parts as (
    select
        date_day,
        {{ date_part_int('year', 'date_day') }} as calendar_year,
        {{ date_part_int('quarter', 'date_day') }} as calendar_quarter,
        {{ date_part_int('month', 'date_day') }} as calendar_month,
        {{ date_part_int('day', 'date_day') }} as day_of_month,
        {{ date_part_int('isodow', 'date_day') }} as day_of_week,
        {{ date_part_int('week', 'date_day') }} as iso_week,
        {{ date_part_int('doy', 'date_day') }} as day_of_year
    from days
),

calendar as (
    select
        {{ date_key('date_day') }} as date_key,
        date_day,
        calendar_year,
        calendar_quarter,
        calendar_month,
        case calendar_month
            when 1 then 'January' when 2 then 'February' when 3 then 'March'
            when 4 then 'April' when 5 then 'May' when 6 then 'June'
            when 7 then 'July' when 8 then 'August' when 9 then 'September'
            when 10 then 'October' when 11 then 'November' else 'December'
        end as month_name,
        calendar_year * 100 + calendar_month as year_month,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        day_of_month,
        day_of_year,
        day_of_week,
        case day_of_week
            when 1 then 'Monday' when 2 then 'Tuesday' when 3 then 'Wednesday'
            when 4 then 'Thursday' when 5 then 'Friday' when 6 then 'Saturday'
            else 'Sunday'
        end as day_name,
        {{ as_boolean('day_of_week in (6, 7)') }} as is_weekend,
        iso_week,
        case
            when calendar_month >= {{ fiscal_start }} then calendar_year
            else calendar_year - 1
        end as fiscal_year,
        case
            when calendar_month >= {{ fiscal_start }} then calendar_month - {{ fiscal_start }} + 1
            else calendar_month + {{ 13 - fiscal_start }}
        end as fiscal_month
    from parts
),

fiscal as (
    select
        calendar.*,
        case
            when calendar.fiscal_month <= 3 then 1
            when calendar.fiscal_month <= 6 then 2
            when calendar.fiscal_month <= 9 then 3
            else 4
        end as fiscal_quarter
    from calendar
),

unknown_member as (
    select
        -1 as date_key,
        cast(null as date) as date_day,
        cast(null as {{ dbt.type_int() }}) as calendar_year,
        cast(null as {{ dbt.type_int() }}) as calendar_quarter,
        cast(null as {{ dbt.type_int() }}) as calendar_month,
        'Unknown' as month_name,
        cast(null as {{ dbt.type_int() }}) as year_month,
        cast(null as date) as month_start_date,
        cast(null as {{ dbt.type_int() }}) as day_of_month,
        cast(null as {{ dbt.type_int() }}) as day_of_year,
        cast(null as {{ dbt.type_int() }}) as day_of_week,
        'Unknown' as day_name,
        {{ boolean_literal(false) }} as is_weekend,
        cast(null as {{ dbt.type_int() }}) as iso_week,
        cast(null as {{ dbt.type_int() }}) as fiscal_year,
        cast(null as {{ dbt.type_int() }}) as fiscal_month,
        cast(null as {{ dbt.type_int() }}) as fiscal_quarter
),

unioned as (
    select * from fiscal
    union all
    select * from unknown_member
),

final as (
    select
        cast(date_key as {{ dbt.type_int() }}) as date_key,
        cast(date_day as date) as date_day,
        cast(calendar_year as {{ dbt.type_int() }}) as calendar_year,
        cast(calendar_quarter as {{ dbt.type_int() }}) as calendar_quarter,
        cast(calendar_month as {{ dbt.type_int() }}) as calendar_month,
        cast(month_name as {{ type_text() }}) as month_name,
        cast(year_month as {{ dbt.type_int() }}) as year_month,
        cast(month_start_date as date) as month_start_date,
        cast(day_of_month as {{ dbt.type_int() }}) as day_of_month,
        cast(day_of_year as {{ dbt.type_int() }}) as day_of_year,
        cast(day_of_week as {{ dbt.type_int() }}) as day_of_week,
        cast(day_name as {{ type_text() }}) as day_name,
        cast(is_weekend as {{ dbt.type_boolean() }}) as is_weekend,
        cast(iso_week as {{ dbt.type_int() }}) as iso_week,
        cast(fiscal_year as {{ dbt.type_int() }}) as fiscal_year,
        cast(fiscal_quarter as {{ dbt.type_int() }}) as fiscal_quarter,
        cast(fiscal_month as {{ dbt.type_int() }}) as fiscal_month
    from unioned
)

select * from final
