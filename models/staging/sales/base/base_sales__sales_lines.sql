{#-
    Every POS / e-commerce line delivered in the sales files, parsed from text and
    classified. A line delivered again in a later file (same transaction and line number)
    is a counted duplicate; the first delivery is kept, so facts already built never move.
    Rules on the kept line, first match wins: null_key, unparseable_quantity,
    unparseable_date, impossible_amount (negative or unparseable price or discount),
    orphan_store (store code unknown to the ERP). Unknown SKUs and customers are kept.
-#}

with

sales_lines as (
    select * from {{ source('bronze_sales', 'sales_lines') }}
),

stores as (
    select * from {{ ref('stg_erp__stores') }}
),

parsed as (
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
        {{ clean_text('sold_at') }} as sold_at_raw,
        {{ parse_timestamp('sold_at') }} as sold_at,
        lower({{ clean_text('payment_method') }}) as payment_method,
        _source_file,
        cast(_source_row as {{ dbt.type_bigint() }}) as _source_row,
        _dlt_load_id,
        {{ to_utc_timestamp('_loaded_at') }} as _loaded_at
    from sales_lines
),

ranked as (
    select
        parsed.*,
        row_number() over (
            partition by parsed.transaction_id, parsed.line_number_raw
            order by parsed._loaded_at, parsed._dlt_load_id, parsed._source_file, parsed._source_row
        ) as delivery_rank
    from parsed
),

with_rule as (
    select
        ranked.*,
        stores.store_id,
        case
            when ranked.transaction_id is null or ranked.line_number is null then 'null_key'
            when ranked.quantity is null then 'unparseable_quantity'
            when ranked.sold_at is null then 'unparseable_date'
            when ranked.unit_price is null
                or ranked.unit_price < 0
                or ranked.discount_amount is null
                or ranked.discount_amount < 0
                then 'impossible_amount'
            when stores.store_id is null then 'orphan_store'
        end as quarantine_rule
    from ranked
    left join stores
        on ranked.store_code = stores.store_code
),

classified as (
    select
        with_rule.*,
        case
            when with_rule.quarantine_rule = 'null_key' then 'quarantined'
            when with_rule.delivery_rank > 1 then 'duplicate'
            when with_rule.quarantine_rule is not null then 'quarantined'
            else 'valid'
        end as row_status
    from with_rule
)

select * from classified
