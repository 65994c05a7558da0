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
    select
        coalesce(identities.account_id, source.account_id) as account_id,
        source.* exclude (account_id),

    from source
    left join identities
        on source.account_id = identities.lake_account_id
    -- one row per account and key: a day landed under the old handle and the new
    qualify row_number() over (
        partition by coalesce(identities.account_id, source.account_id), source.day
        order by source.fetched_at desc nulls last
    ) = 1

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
