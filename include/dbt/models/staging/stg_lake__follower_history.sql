-- Points of the daily follower series some platforms give for owned accounts.
with

source as (

    select * from {{ source('lake', 'lake_follower_history') }}

),

identities as (

    select * from {{ ref('stg_lake__account_identities') }}

),

mapped as (

    -- a lake row of a former handle belongs to the account under its current handle
    {{ current_account_rows(key='source.day', latest_first='source.fetched_at desc nulls last') }}

),

renamed as (

    select
        account_id,
        agency_id,
        platform,
        day as history_day,
        followers,
        metric,
        fetched_at,

    from mapped as source

)

select * from renamed
