-- What the platform gives for an account's posts at all, over all its known posts: for a
-- period without posts, engagement and live counts are 0 only where the account's posts
-- carry them (docs/REFERENCE.md, Warehouse). One narrow pass over the posts.
with

posts as (

    select * from {{ ref('int_account_posts') }}

),

final as (

    select
        account_id,
        bool_or(engagement is not null) as gives_engagement,
        bool_and(is_live is not null) as gives_live,
    from posts
    group by all

)

select * from final
