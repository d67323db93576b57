-- SCD2 integrity of dim_customer per customer_id; a customer hard-deleted in the CRM
-- keeps its closed history and has no current version.
{{ scd2_window_failures(ref('dim_customer'), 'customer_id', 'is_hard_deleted') }}
