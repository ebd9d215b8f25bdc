-- One more batch of records standardised now (std_batch, registered by the standardise stage), appended to
-- std_organization by column name.
INSERT INTO std_organization BY NAME SELECT * FROM std_batch;
