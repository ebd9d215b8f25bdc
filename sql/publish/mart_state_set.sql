-- Record the global inputs the marts were just built from ($inputs, $values: lists of the same length).
DELETE FROM mart_state;
INSERT INTO mart_state SELECT unnest($inputs), unnest($values), $run;
