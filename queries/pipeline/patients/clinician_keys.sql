-- clinician_keys: a dense integer key per clinician recorded (non-blank clinician_id) in the
-- appointments, numbered in clinician_id order, so that "the smallest clinician_id" tie-breaks
-- (usual_provider.sql, inferred_gp.sql) are "the smallest key". Contacts carry keys, not text ids
-- (contacts.sql), so their sorts and joins run on 32-bit integers. Keys are numbered afresh by
-- every run: tables kept between runs (metrics/pipeline/refresh.py) hold text ids, never keys.
SELECT clinician_id, CAST(row_number() OVER (ORDER BY clinician_id) AS INTEGER) AS clinician_key
FROM (SELECT DISTINCT clinician_id FROM appointments) AS recorded
WHERE clinician_id IS NOT NULL AND trim(clinician_id) <> ''
