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
    select
        coalesce(identities.account_id, source.account_id) as account_id,
        source.* exclude (account_id),

    from source
    left join identities
        on source.account_id = identities.lake_account_id
    -- one row per account and key: a day landed under the old handle and the new
    qualify row_number() over (
        partition by coalesce(identities.account_id, source.account_id), source.snapshot_date
        order by source.fetched_at desc nulls last
    ) = 1

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
