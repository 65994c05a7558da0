-- One row per account and calendar month (UTC) with any observation or post.
-- Columns and definitions: docs/REFERENCE.md, Warehouse; the SQL: macros/period_marts.sql.
{{ account_period_mart('month') }}
