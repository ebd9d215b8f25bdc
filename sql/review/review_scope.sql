-- name: _review_scope
-- kind: table
-- lifetime: temp
-- stage: publish
-- description: The golden ids whose review items an incremental publish recomputes (with _review_kept, those
--  whose items it keeps); both dropped once review_item is built.
-- column golden_id: A golden id recomputed or created by this run.
--
-- The golden records whose review items an incremental build computes again (_review_scope: those this run,
-- $run, recomputed or created; survive gives them its run id) and those whose items it keeps (_review_kept:
-- carried over unchanged). A golden id that is gone is in neither: its items go. See sql/review/review_item.sql.
CREATE OR REPLACE TEMP TABLE _review_scope AS SELECT golden_id FROM golden_organization WHERE run_id = $run;
CREATE OR REPLACE TEMP TABLE _review_kept AS SELECT golden_id FROM golden_organization WHERE run_id <> $run;
