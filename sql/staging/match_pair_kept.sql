-- Incremental runs: the published pairs that touch a changed or removed record are dropped (this is the
-- run's private copy of the database); the kept pairs keep the id of the run that scored them. The match
-- stage then adds this run's pairs and renames the table new_match_pair. The records that are gone are
-- few (match_gone, found once): each pair is looked up in them by its two ends, not joined with every kept
-- pair.
DELETE FROM match_pair
WHERE rid_a IN (SELECT rid FROM run_changed UNION ALL SELECT rid FROM match_gone)
   OR rid_b IN (SELECT rid FROM run_changed UNION ALL SELECT rid FROM match_gone);
