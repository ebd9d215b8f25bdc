-- The rows an export holds ($table), counted by the COPY that wrote it ($rows): pipelines.exports records
-- them at the switch for the views it marked changed without reading them at publish.
UPDATE export_state SET row_count = $rows WHERE table_name = $table;
