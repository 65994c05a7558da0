-- One row per registry account: what the warehouse knows of it and why a figure may be
-- missing (latest observation, posts, latest extract outcome). Ages are counted from the
-- latest observation day overall, never from the wall clock, so rebuilding is idempotent.
with

registry_accounts as (

    select * from {{ ref('stg_registry__accounts') }}

),

daily_followers as (

    select * from {{ ref('int_account_daily_followers') }}

),

posts as (

    select * from {{ ref('int_account_posts') }}

),

post_tracking as (

    select * from {{ ref('int_account_post_tracking') }}

),

extract_log as (

    select * from {{ ref('stg_lake__extract_log') }}

),

observations_by_account as (

    select
        account_id,
        min(observed_on) as first_observed_on,
        max(observed_on) as last_observed_on,
        count(*) as observed_days,
        arg_max(followers, observed_on) as last_followers,
        arg_max(source, observed_on) as last_followers_source,
    from daily_followers
    group by all

),

posts_by_account as (

    select
        account_id,
        count(*) as known_posts,
        count(*) filter (where is_deleted) as deleted_posts,
        max(published_at) as last_post_at,
    from posts
    group by all

),

latest_extract as (

    select
        account_id,
        run_date as last_extract_run_date,
        extract_status as last_extract_status,
        extract_reason as last_extract_reason,
    from extract_log
    qualify row_number() over (
        partition by account_id
        order by run_date desc, logged_at desc nulls last
    ) = 1

),

latest_observation as (

    select max(observed_on) as latest_observation_day from daily_followers

),

final as (

    select
        registry_accounts.account_id,
        registry_accounts.agency_id,
        registry_accounts.platform,
        registry_accounts.handle,
        registry_accounts.verified,
        observations_by_account.first_observed_on,
        observations_by_account.last_observed_on,
        coalesce(observations_by_account.observed_days, 0) as observed_days,
        cast(
            latest_observation.latest_observation_day
            - observations_by_account.last_observed_on as integer
        ) as days_behind_latest_observation,
        observations_by_account.last_followers,
        observations_by_account.last_followers_source,
        post_tracking.account_id is not null as has_post_tracking,
        coalesce(posts_by_account.known_posts, 0) as known_posts,
        coalesce(posts_by_account.deleted_posts, 0) as deleted_posts,
        posts_by_account.last_post_at,
        latest_extract.last_extract_run_date,
        latest_extract.last_extract_status,
        latest_extract.last_extract_reason,
    from registry_accounts
    cross join latest_observation
    left join observations_by_account
        on registry_accounts.account_id = observations_by_account.account_id
    left join posts_by_account
        on registry_accounts.account_id = posts_by_account.account_id
    left join post_tracking
        on registry_accounts.account_id = post_tracking.account_id
    left join latest_extract
        on registry_accounts.account_id = latest_extract.account_id

)

select * from final
order by account_id, agency_id
