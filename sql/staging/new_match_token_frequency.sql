-- Name-token document frequencies behind the IDF weights of this run's model (tmp_tokens: registered by
-- the match stage from the counts it used).
CREATE OR REPLACE TABLE new_match_token_frequency AS
SELECT token, records FROM tmp_tokens WHERE records > 0 ORDER BY token;
