-- Points of the daily follower series some platforms give for owned accounts.
create or replace view staging.stg_lake__follower_history as

with

source as (

    select * from staging.lake_follower_history

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
