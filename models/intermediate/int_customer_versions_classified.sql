{#-
    Every customer version the CRM delivered, with its final row_status. base_crm__customers
    classifies a version by the rules of the customers table alone (valid, duplicate,
    quarantined); whether the customer was hard-deleted needs a second table, the CRM's
    deletion log, so that check lives here: the latest valid version of a customer whose
    deletion is at or after that version's updated_at is counted as deleted. A customer
    re-created after its deletion (a newer version) stays valid. Duplicates and quarantined
    versions keep their status.

    This is the one place that decides a customer version's fate: stg_crm__customers keeps
    its valid rows, quarantine_crm its quarantined ones and dq_row_reconciliation counts the
    duplicates and deletes from here. It sits between base and staging on purpose: the
    staging model is the silver view the snapshot and the marts read and must already be
    without hard-deleted customers, and a second deletion join in the staging model could
    disagree with this one, so the reconciliation would no longer prove where every row
    went.

    Stored as a table, so each of its many readers reads the decision instead of making it
    again from bronze.
-#}

{{ config(materialized='table') }}

with

customers as (
    select * from {{ ref('base_crm__customers') }}
),

deletions as (
    select * from {{ ref('stg_crm__customer_deletions') }}
),

classified as (
    select
        customers.customer_id,
        customers.first_name,
        customers.last_name,
        customers.email,
        customers.phone_raw,
        customers.address_line,
        customers.city,
        customers.postal_code,
        customers.country_raw,
        customers.country_lookup_key,
        customers.loyalty_tier,
        customers.is_marketing_opt_in,
        customers.created_at,
        customers.updated_at,
        customers.is_deleted,
        customers.preferred_channel,
        customers._dlt_load_id,
        customers._loaded_at,
        customers.type_conflict_value,
        customers.quarantine_rule,
        customers.version_rank,
        deletions.deleted_at,
        case
            when customers.row_status = 'valid'
                and deletions.deleted_at >= customers.updated_at
                then 'deleted'
            else customers.row_status
        end as row_status,
        customers.rejected_value
    from customers
    left join deletions
        on customers.customer_id = deletions.customer_id
)

select * from classified
