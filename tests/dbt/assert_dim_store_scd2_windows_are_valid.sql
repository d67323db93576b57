-- SCD2 integrity of dim_store per store_id.
{{ scd2_window_failures(ref('dim_store'), 'store_id') }}
