-- Posts as last fetched, with their UTC publication day (macros/lake_posts.sql).
{{ lake_posts() }}
