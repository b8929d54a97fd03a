-- patient_keys: a dense integer key per patient (patient_practice: registered, or seen in the
-- appointments), numbered in (practice_code, patient_id) order, with what the roll-ups need of
-- the patient: the practice, age band, IMD decile, named GP (as text, and as a clinician key:
-- NULL for a named GP with no recorded appointment) and that list's key (list_keys). Every step
-- from contacts on sorts, joins and groups on these 32-bit integers, not text (narrow keys make
-- their large sorts, GROUP BYs and joins about a third faster); text ids come back only where a
-- table leaves the pipeline (patient_indices) or is kept for the next refresh. Keys are numbered
-- afresh by every run: tables kept between runs (metrics/pipeline/refresh.py,
-- queries/refresh_state_*.sql) hold text ids, never keys.
-- Numbered within each practice, after the practices before it: practices sort in parallel,
-- where one numbering over every patient would sort on one thread (a third faster at 100M).
WITH numbered AS (
    SELECT pp.patient_id, pp.practice_code, pp.age_band, pp.imd_decile, pp.usual_gp_id,
           row_number() OVER (PARTITION BY pp.practice_code ORDER BY pp.patient_id)
               AS in_practice
    FROM patient_practice pp
),
practices_before AS (
    SELECT practice_code, sum(count(*)) OVER (ORDER BY practice_code) - count(*) AS patients
    FROM patient_practice
    GROUP BY practice_code
)
SELECT n.patient_id, n.practice_code, n.age_band, n.imd_decile, n.usual_gp_id,
       k.clinician_key AS usual_gp_key, l.list_key,
       CAST(b.patients + n.in_practice AS INTEGER) AS patient_key
FROM numbered n
JOIN practices_before b ON b.practice_code IS NOT DISTINCT FROM n.practice_code
LEFT JOIN clinician_keys k ON k.clinician_id = n.usual_gp_id
JOIN list_keys l
  ON l.practice_code IS NOT DISTINCT FROM n.practice_code
 AND l.usual_gp_id IS NOT DISTINCT FROM n.usual_gp_id
