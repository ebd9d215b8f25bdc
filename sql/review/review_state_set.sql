-- Record the global inputs the review queue was just built from ($inputs, $values: lists of the same length).
DELETE FROM review_state;
INSERT INTO review_state SELECT unnest($inputs), unnest($values), $run;
