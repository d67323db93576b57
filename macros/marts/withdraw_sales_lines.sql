{#-
    Pre-hook of int_sales_lines_unioned on an incremental run: withdraws the held lines that
    the run will write again or that are no longer sales lines, by stamping them with
    _withdrawn_at (the run's start). A withdrawn row stays, so fct_sales can delete the lines
    withdrawn since its own last run without comparing every key it holds; a line the run
    writes again replaces its withdrawn row.

    - A POS line whose transaction line silver classified again since the last run: the
      run writes it again when it is still the valid copy, and it stays withdrawn when a
      correction superseded it, it became a duplicate or it was quarantined.
    - A web line whose order line or order is no longer valid, whose order was cancelled,
      or a return line whose order is no longer returned.

    The lines are found by one select per channel and stamped by key: DuckDB plans a
    statement whose condition is an `or` of two correlated subqueries about twice as slow.
-#}

{% macro withdraw_sales_lines() -%}
    {%- if is_incremental() and replaces_rows_by_key() -%}
        update {{ this }}
        set _withdrawn_at = {{ built_at() }}
        where sales_line_key in (
            select held.sales_line_key
            from {{ this }} as held
            where held.channel = 'store'
                and held._withdrawn_at is null
                and exists (
                    select 1
                    from {{ ref('base_sales__sales_lines') }} as classified
                    where classified._built_at > (
                            select max(last_run._built_at)
                            from {{ this }} as last_run
                            where last_run._withdrawn_at is null
                        )
                        and classified.transaction_id = held.transaction_id
                        and classified.line_number = held.line_number
                )

            union all

            select held.sales_line_key
            from {{ this }} as held
            where held.channel = 'online'
                and held._withdrawn_at is null
                and not exists (
                    select 1
                    from {{ ref('stg_erp__order_lines') }} as order_lines
                    inner join {{ ref('stg_erp__orders') }} as orders
                        on order_lines.order_id = orders.order_id
                    where order_lines.order_line_id = held.order_line_id
                        and orders.order_status <> 'cancelled'
                        and (
                            orders.order_status = 'returned'
                            or not {{ is_true('held.is_return') }}
                        )
                )
        )
    {%- endif -%}
{%- endmacro %}

{#-
    Pre-hook of fct_sales on an incremental run: deletes the lines int_sales_lines_unioned
    withdrew since fct_sales' last run. Where the union holds no record of that (it was
    rebuilt whole since, or fct_sales is empty), every line the union does not hold as a
    current line is deleted instead: one key anti-join of the two tables.
-#}

{% macro delete_withdrawn_sales_lines(unioned) -%}
    {%- if is_incremental() and replaces_rows_by_key() -%}
        {%- set last_runs -%}
            select
                (select max(_built_at) from {{ this }}) as fct_built_until,
                (select min(_built_at) from {{ unioned }}) as union_built_since
        {%- endset -%}
        {%- set row = run_query(last_runs).rows[0] if execute else none -%}
        {%- if row is not none and row[0] is not none and row[1] is not none and row[1] <= row[0] %}
        delete from {{ this }}
        where sales_line_key in (
            select withdrawn.sales_line_key
            from {{ unioned }} as withdrawn
            where withdrawn._withdrawn_at > (select max(held._built_at) from {{ this }} as held)
        )
        {%- else %}
        delete from {{ this }}
        where not exists (
            select 1
            from {{ unioned }} as current_lines
            where current_lines.sales_line_key = {{ this.identifier }}.sales_line_key
                and current_lines._withdrawn_at is null
        )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
