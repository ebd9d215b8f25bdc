-- The export state of every exported table: name, fingerprint, whether this run's export must be written.
SELECT table_name, fingerprint, changed FROM export_state;
