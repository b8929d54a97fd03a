-- clinician_keys: a dense integer key per clinician seen in contacts, numbered in clinician_id
-- order, so that "the smallest clinician_id" tie-break (inferred_gp.sql) is "the smallest key".
SELECT clinician_id, CAST(row_number() OVER (ORDER BY clinician_id) AS INTEGER) AS clinician_key
FROM (SELECT DISTINCT clinician_id FROM contacts) AS seen
