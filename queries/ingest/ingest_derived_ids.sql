-- ingest_derived_ids: stable appointment ids for thin exports (SystmOne, EMIS) that carry none.
--
-- Input `keyed` (registered by metrics.ingest): i = row position, k = practice, patient,
-- clinician, date and time joined with a unit separator. The id is the first 16 hex digits of
-- md5(k); ingest appends the occurrence of k within its file ("-1", "-2", ...), so two genuine
-- same-day visits stay two rows while a row repeated in an overlapping export gets the same id
-- and merges. md5 because the id must not change between versions or machines (appended stores
-- compare ids written months apart); polars' own hash is not stable across versions.
SELECT i, substr(md5(k), 1, 16) AS h
FROM keyed
ORDER BY i
