-- Accounts whose posts are tracked: any post in the lake, or an extract run that read the
-- account's posts (every platform's extractor fetches posts, so such a run with no post
-- means none were published). For other accounts post counts are unknown (NULL), not zero;
-- a run that could not read the posts (no public preview, no permission) is no evidence.
with

posts as (

    select * from {{ ref('stg_lake__posts') }}

),

post_reads as (

    select * from {{ ref('int_account_post_reads') }}

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
    from post_reads
    where read_posts

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
