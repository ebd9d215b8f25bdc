-- How the identifiers of run $run are classified (e.g. uscc / uscc_bad_check / legacy_registration).
SELECT cur.source, cur.attribute, cur.class, cur.rows, cur.rows - prev.rows AS d_rows
FROM (SELECT * FROM identifier_quality WHERE run_id = $run) AS cur
LEFT JOIN (SELECT * FROM identifier_quality WHERE run_id = $prev) AS prev USING (source, attribute, class)
ORDER BY cur.source, cur.attribute, cur.class
