{#-
    Every POS / e-commerce line delivered in the sales files, parsed from text and
    classified. Reads bronze_sales.sales_lines only.

    Deliveries: a file name delivered again with new content is a correction. Every line
    of an older delivery of that name is superseded (bronze keeps them for audit); the
    newest delivery counts. A line delivered again in another file (same transaction and
    line number) is a counted duplicate; the copy in the file whose name was delivered
    first is kept, so a correction keeps the original file's place and replaces its lines.

    Rules on the kept line, first match wins: null_key, value_too_long,
    unparseable_quantity, unparseable_date, impossible_amount (negative or unparseable
    price or discount), impossible_quantity (0), date_out_of_range (outside dim_date),
    amount_out_of_range (unit price above var max_unit_price), quantity_out_of_range
    (more units than var max_quantity), discount_exceeds_gross (discount above quantity x
    unit price). Unknown stores, SKUs and customers are kept: gold keys them to the
    unknown members until they arrive.

    Incremental, so a day parses only the day's lines: each run parses the loads silver
    has not seen yet, and classifies them again together with the held lines whose status
    they can change, which are every line of a file name the new loads deliver again (a
    correction supersedes them) and every line sharing a transaction line with those (a
    duplicate may become the kept copy, or the other way round). Those rows are replaced by
    their delivery (load, file, row). A line of a file the new loads do not touch keeps its
    stored file figures. Changing one of the rule vars needs a --full-refresh.
-#}

{{ config(
    materialized='incremental',
    unique_key=['_dlt_load_id', '_source_file', '_source_row'],
    incremental_strategy=incremental_strategy_by_key(),
    on_schema_change='fail',
) }}

{%- set is_slice = is_incremental() and replaces_rows_by_key() %}
{%- set parsed_columns = [
    'transaction_id', 'line_number', 'line_number_raw', 'store_code', 'customer_id_raw',
    'customer_id', 'sku', 'quantity_raw', 'quantity', 'unit_price', 'unit_price_raw',
    'discount_amount', 'discount_amount_raw', 'sold_at_raw', 'sold_at', 'payment_method',
    '_source_file', '_source_row', '_dlt_load_id', '_loaded_at',
] %}

with

sales_lines as (
    select * from {{ source('bronze_sales', 'sales_lines') }}
    {% if is_slice %}
    where {{ loads_not_yet_held() }}
    {% endif %}
),

new_lines as (
    select
        {{ clean_text('transaction_id') }} as transaction_id,
        {{ parse_integer('line_number') }} as line_number,
        {{ clean_text('line_number') }} as line_number_raw,
        upper({{ clean_text('store_code') }}) as store_code,
        {{ clean_text('customer_id') }} as customer_id_raw,
        {{ parse_bigint('customer_id') }} as customer_id,
        upper({{ clean_text('sku') }}) as sku,
        {{ clean_text('quantity') }} as quantity_raw,
        {{ parse_integer('quantity') }} as quantity,
        {{ parse_amount('unit_price') }} as unit_price,
        {{ clean_text('unit_price') }} as unit_price_raw,
        coalesce(
            {{ parse_amount('discount_amount') }},
            case when {{ clean_text('discount_amount') }} is null then 0 end
        ) as discount_amount,
        {{ clean_text('discount_amount') }} as discount_amount_raw,
        {{ clean_text('sold_at') }} as sold_at_raw,
        {{ parse_timestamp('sold_at') }} as sold_at,
        lower({{ clean_text('payment_method') }}) as payment_method,
        _source_file,
        cast(_source_row as {{ dbt.type_bigint() }}) as _source_row,
        _dlt_load_id,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from sales_lines
),

{% if is_slice %}
{#- the held lines are read where they are used, not through a CTE: DuckDB stores a CTE
    that is read more than once whole, here every held line with all its columns -#}
redelivered_files as (
    select distinct _source_file from new_lines
),

held_lines_of_redelivered_files as (
    select held_lines.*
    from {{ this }} as held_lines
    inner join redelivered_files
        on held_lines._source_file = redelivered_files._source_file
),

touched_transaction_lines as (
    select distinct transaction_id, line_number from new_lines
    union
    select distinct transaction_id, line_number from held_lines_of_redelivered_files
),

held_lines_to_classify as (
    select held_lines.*
    from {{ this }} as held_lines
    left join redelivered_files
        on held_lines._source_file = redelivered_files._source_file
    left join touched_transaction_lines
        on held_lines.transaction_id = touched_transaction_lines.transaction_id
        and held_lines.line_number = touched_transaction_lines.line_number
    where redelivered_files._source_file is not null
        or touched_transaction_lines.transaction_id is not null
),

parsed as (
    select * from new_lines
    union all
    select {{ parsed_columns | join(', ') }} from held_lines_to_classify
),

file_deliveries as (
    select
        parsed._source_file,
        min(parsed._loaded_at) as file_first_loaded_at,
        max(parsed._loaded_at) as file_last_loaded_at,
        min(parsed._dlt_load_id) as file_first_load_id,
        max(parsed._dlt_load_id) as file_last_load_id
    from parsed
    inner join redelivered_files
        on parsed._source_file = redelivered_files._source_file
    group by parsed._source_file

    union all

    -- a file the new loads do not deliver again keeps its stored figures
    select distinct
        held_lines_to_classify._source_file,
        held_lines_to_classify.file_first_loaded_at,
        held_lines_to_classify.file_last_loaded_at,
        held_lines_to_classify.file_first_load_id,
        held_lines_to_classify.file_last_load_id
    from held_lines_to_classify
    left join redelivered_files
        on held_lines_to_classify._source_file = redelivered_files._source_file
    where redelivered_files._source_file is null
),
{% else %}
parsed as (
    select * from new_lines
),

file_deliveries as (
    select
        _source_file,
        min(_loaded_at) as file_first_loaded_at,
        max(_loaded_at) as file_last_loaded_at,
        min(_dlt_load_id) as file_first_load_id,
        max(_dlt_load_id) as file_last_load_id
    from parsed
    group by _source_file
),
{% endif %}

delivered as (
    select
        parsed.*,
        file_deliveries.file_first_loaded_at,
        file_deliveries.file_last_loaded_at,
        {{ as_boolean(
            'parsed._loaded_at < file_deliveries.file_last_loaded_at'
            ~ ' or (parsed._loaded_at = file_deliveries.file_last_loaded_at'
            ~ ' and parsed._dlt_load_id < file_deliveries.file_last_load_id)'
        ) }} as is_superseded,
        file_deliveries.file_first_load_id,
        file_deliveries.file_last_load_id
    from parsed
    inner join file_deliveries
        on parsed._source_file = file_deliveries._source_file
),

ranked as (
    select
        delivered.*,
        -- a line without its key is no copy of anything: it has no rank
        case
            when delivered.transaction_id is not null and delivered.line_number is not null
                then row_number() over (
                        partition by
                            delivered.transaction_id,
                            delivered.line_number,
                            case when {{ is_true('delivered.is_superseded') }} then 1 else 0 end
                        order by
                            delivered.file_first_loaded_at,
                            delivered.file_first_load_id,
                            delivered._source_file,
                            delivered._source_row
                    )
        end as delivery_rank
    from delivered
),

with_rule as (
    select
        ranked.*,
        case
            when ranked.transaction_id is null or ranked.line_number is null then 'null_key'
            when {{ is_too_long('ranked.transaction_id') }}
                or {{ is_too_long('ranked.store_code') }}
                or {{ is_too_long('ranked.sku') }}
                or {{ is_too_long('ranked.payment_method') }}
                then 'value_too_long'
            when ranked.quantity is null then 'unparseable_quantity'
            when ranked.sold_at is null then 'unparseable_date'
            when ranked.unit_price is null
                or ranked.unit_price < 0
                or ranked.discount_amount is null
                or ranked.discount_amount < 0
                then 'impossible_amount'
            when ranked.quantity = 0 then 'impossible_quantity'
            when {{ is_outside_calendar('ranked.sold_at') }} then 'date_out_of_range'
            when ranked.unit_price > {{ var('max_unit_price') }} then 'amount_out_of_range'
            when ranked.quantity > {{ var('max_quantity') }}
                or ranked.quantity < -1 * {{ var('max_quantity') }}
                then 'quantity_out_of_range'
            when ranked.discount_amount > abs(ranked.quantity) * ranked.unit_price
                then 'discount_exceeds_gross'
        end as quarantine_rule
    from ranked
),

classified as (
    select
        with_rule.*,
        case
            when {{ is_true('with_rule.is_superseded') }} then 'superseded'
            else {{ row_status('with_rule.quarantine_rule', 'with_rule.delivery_rank') }}
        end as row_status,
        -- hashed once here: silver's key, read by every test and reader of the lines
        {{ generate_surrogate_key(['with_rule.transaction_id', 'with_rule.line_number']) }}
            as sales_line_id,
        {{ built_at() }} as _built_at
    from with_rule
)

select * from classified
