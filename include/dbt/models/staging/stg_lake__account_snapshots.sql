-- Daily account snapshots from the platform APIs (one per account and day).
with

source as (

    select * from {{ source('lake', 'lake_account_snapshots') }}

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

    from source

)

select * from renamed
