-- One row per registry account and extract run: ok | gone | private | failed | skipped, and why.
create or replace view staging.stg_lake__extract_log as

with

source as (

    select * from staging.lake_extract_log

),

renamed as (

    select
        run_date,
        platform,
        account_id,
        agency_id,
        handle,
        status as extract_status,
        reason as extract_reason,
        calls,
        units,
        run_id,
        logged_at,
        -- api | sandbox; NULL without a connection or in a log written before it was kept
        source.source as figure_source,

    from source

)

select * from renamed
