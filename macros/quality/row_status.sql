{#-
    A row's status from its quarantine rule and its version rank, for the transaction tables
    (ERP orders and order lines, POS sales lines): a row without its key is no version of
    anything, so it is quarantined first; then an older version is a duplicate (only the
    latest version is judged by the other rules); then a rule quarantines it; otherwise it
    is valid. Master data (customers, products, stores) ranks quarantined rows apart from
    valid ones instead, so a bad new version never displaces the last good one.
-#}
{% macro row_status(quarantine_rule, version_rank) -%}
    case
        when {{ quarantine_rule }} = 'null_key' then 'quarantined'
        when {{ version_rank }} > 1 then 'duplicate'
        when {{ quarantine_rule }} is not null then 'quarantined'
        else 'valid'
    end
{%- endmacro %}
