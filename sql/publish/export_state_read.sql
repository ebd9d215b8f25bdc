-- The export state of every exported table: name, fingerprint, whether this run's export must be written, rows.
SELECT table_name, fingerprint, changed, row_count FROM export_state;
