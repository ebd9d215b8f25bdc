-- Incremental runs: the published pairs that touch a changed or removed record are dropped (this is the
-- run's private copy of the database); the kept pairs keep the id of the run that scored them. The
-- match stage then adds this run's pairs and renames the table new_match_pair.
DELETE FROM match_pair
WHERE NOT EXISTS (SELECT 1 FROM kept_pairs AS k WHERE k.rid_a = match_pair.rid_a AND k.rid_b = match_pair.rid_b);
