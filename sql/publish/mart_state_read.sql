-- The marts' recorded global inputs (mart_state.sql; empty before the first build that records them).
SELECT input, value FROM mart_state;
