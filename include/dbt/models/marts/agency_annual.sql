-- One row per agency and calendar year (UTC) with any account row.
-- Columns and definitions: docs/REFERENCE.md, Warehouse; the SQL: macros/period_marts.sql.
{{ agency_period_mart('year') }}
