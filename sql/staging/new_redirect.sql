-- Golden ids retired by this run's clustering (merged into another, or gone) and their successors
-- (red_df, registered by the cluster stage); appended to golden_id_redirect at publish.
CREATE OR REPLACE TABLE new_redirect AS SELECT retired_id, surviving_id, run_id, reason FROM red_df;
