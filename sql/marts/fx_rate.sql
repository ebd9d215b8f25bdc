-- name: fx_rate
-- kind: table
-- stage: publish
-- description: Exchange rates into the reporting currency (marts.reporting_currency), loaded at publish from the CSV file named by marts.fx_rates (by default the illustrative pipelines/data/fx_rates.csv). Balances and financial figures are converted with it.
-- column currency: ISO 4217 currency code.
-- column reporting_currency: The currency every converted amount is in (marts.reporting_currency).
-- column rate: Units of reporting_currency worth one unit of currency.
-- column as_of: Date the rate refers to, as given in the file.
-- column file: File the rate was read from.
CREATE OR REPLACE TABLE fx_rate AS
SELECT currency, reporting_currency, rate, as_of, file
FROM fx_rate_input
ORDER BY currency;
