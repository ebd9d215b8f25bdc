-- name: industry_isic
-- kind: table
-- stage: publish
-- description: Industry codes mapped to one ISIC Rev.4 / NACE Rev.2 section: US SIC (SEC), UK SIC 2007 (Companies House, internal systems) and the Chinese national classification GB/T 4754-2017, by code prefix; the longest matching prefix wins (package data pipelines/data/industry_isic.csv, sources in pipelines/data/README.md).
-- column scheme: Classification of the code: us_sic, uk_sic_2007 or cn_gbt_4754.
-- column code_prefix: Leading digits of a code (division or major group, or three digits where it splits).
-- column isic_section: ISIC Rev.4 section letter (A-U), the same as the NACE Rev.2 section.
-- column section_name: Title of the ISIC Rev.4 section.
CREATE OR REPLACE TABLE industry_isic AS
SELECT m.scheme, m.code_prefix, m.isic_section, s.name AS section_name
FROM industry_isic_input AS m
JOIN isic_section_input AS s USING (isic_section)
ORDER BY m.scheme, m.code_prefix;
