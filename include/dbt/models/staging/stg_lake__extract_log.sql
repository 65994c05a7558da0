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
    select
        coalesce(identities.account_id, source.account_id) as account_id,
        source.* exclude (account_id),

    from source
    left join identities
        on source.account_id = identities.lake_account_id
    -- one row per account and key: a day landed under the old handle and the new
    qualify row_number() over (
        partition by coalesce(identities.account_id, source.account_id), source.run_date
        order by source.logged_at desc nulls last
    ) = 1

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
