-- This run's export state of one table (parameters $table, $rows, $fingerprint, $changed, $run).
INSERT OR REPLACE INTO export_state VALUES ($table, $rows, $fingerprint, $changed, $run);
