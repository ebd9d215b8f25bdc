-- What the next run's plan compares with: the fingerprints of this run's matching and survivorship inputs.
INSERT OR REPLACE INTO run_state VALUES ('match_fingerprint', $match, $run);
INSERT OR REPLACE INTO run_state VALUES ('survive_fingerprint', $survive, $run);
