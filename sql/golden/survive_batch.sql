-- The records of one survive batch (survive_input.sql), in rid order.
SELECT * EXCLUDE (batch) FROM survive_input WHERE batch = $batch ORDER BY rid;
