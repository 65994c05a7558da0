-- Points of the daily follower series some platforms give for owned accounts.
with

source as (

    select * from {{ source('lake', 'lake_follower_history') }}

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

    from source

)

select * from renamed
