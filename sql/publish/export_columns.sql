-- The columns of a Parquet export ($path, a file of a published snapshot) with their types, in file order.
DESCRIBE SELECT * FROM read_parquet($path);
