-- One row per registry account and extract run: ok | gone | private | failed | skipped, and why.
with

source as (

    select * from {{ source('lake', 'lake_extract_log') }}

),

identities as (

    select * from {{ ref('stg_lake__account_identities') }}

),

mapped as (

    -- a lake row of a former handle belongs to the account under its current handle
    {{ current_account_rows(key='source.run_date', latest_first='source.logged_at desc nulls last') }}

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

    from mapped as source

)

select * from renamed
