-- Accounts whose posts are tracked: any post in the lake, or an extract run that ended ok
-- (every platform's extractor fetches posts, so an ok run with no post means none published).
-- For other accounts post counts are unknown (NULL), not zero.
create or replace table core.int_account_post_tracking as

with

posts as (

    select * from staging.stg_lake__posts

),

extract_log as (

    select * from staging.stg_lake__extract_log

),

evidence as (

    select
        account_id,
        'posts' as tracked_by,
    from posts

    union all

    select
        account_id,
        'extract_log' as tracked_by,
    from extract_log
    where extract_status = 'ok'

),

final as (

    select
        account_id,
        list_sort(list_distinct(list(tracked_by))) as tracked_by,
    from evidence
    where account_id is not null
    group by all

)

select * from final
