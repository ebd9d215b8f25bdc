-- Quality metrics of run $run per source and attribute, with the change against run $prev.
WITH cur AS (SELECT * FROM quality_metrics WHERE run_id = $run),
     prev AS (SELECT * FROM quality_metrics WHERE run_id = $prev)
SELECT cur.source, cur.attribute, cur.rows,
       cur.completeness, cur.validity, cur.uniqueness,
       cur.rows - prev.rows                 AS d_rows,
       cur.completeness - prev.completeness AS d_completeness,
       cur.validity - prev.validity         AS d_validity,
       cur.uniqueness - prev.uniqueness     AS d_uniqueness
FROM cur
LEFT JOIN prev USING (source, attribute)
ORDER BY cur.source, cur.attribute
