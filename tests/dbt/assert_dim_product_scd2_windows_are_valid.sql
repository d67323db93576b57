-- SCD2 integrity of dim_product per product_id.
{{ scd2_window_failures(ref('dim_product'), 'product_id') }}
