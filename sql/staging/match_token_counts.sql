-- An incremental run's name-token document frequencies: the last run's (match_token_frequency) plus the change
-- the match stage counted from the records that changed or left (tmp_token_delta: token, delta = records
-- holding the token now minus before; registered by the stage). Equal to counting over every record again.
-- Tokens held by no record are left out; in token order, as new_match_token_frequency keeps them.
SELECT token, records
FROM (
    SELECT token, coalesce(f.records, 0) + coalesce(d.delta, 0) AS records
    FROM match_token_frequency AS f
    FULL JOIN tmp_token_delta AS d USING (token)
)
WHERE records > 0
ORDER BY token;
