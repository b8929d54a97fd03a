-- patient_keys: a dense integer key per patient (with the patient's practice), so that the
-- monthly series (patient_rolling_upc, inferred_gp) sort, join and group on 32-bit integers, not
-- text (narrow keys and counts make their large GROUP BYs about a third faster).
SELECT patient_id, practice_code, CAST(row_number() OVER (ORDER BY patient_id) AS INTEGER) AS patient_key
FROM patient_practice
