-- Daily account snapshots from the platform APIs (one per account and day).
with

source as (

    select * from {{ source('lake', 'lake_account_snapshots') }}

),

identities as (

    select * from {{ ref('stg_lake__account_identities') }}

),

mapped as (

    -- a lake row of a former handle belongs to the account under its current handle
    {{ current_account_rows(key='source.snapshot_date', latest_first='source.fetched_at desc nulls last') }}

),

renamed as (

    select
        account_id,
        agency_id,
        platform,
        handle,
        platform_id,
        name as account_name,
        snapshot_date,
        followers,
        followers_rounding,
        likes as page_likes,
        posts_total,
        views_total,
        fetched_at,

    from mapped as source

)

select * from renamed
