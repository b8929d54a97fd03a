-- list_holder_opr: Own Patient Ratio (BJGP 2023;73:279) per list-holding GP and calendar month:
-- that GP's GP contacts with patients of the GP's own list / all that GP's GP contacts with the
-- practice's patients. A list holder is a clinician named as usual_gp_id of at least one patient
-- of the practice. Contacts belong to the patient's registered practice (contacts.sql); GP
-- contacts in the window are gp_window_n of patient_clinician_monthly. A named GP with no
-- contacts has no rows.
WITH holders AS (
    SELECT DISTINCT practice_code, usual_gp_id AS gp_id, usual_gp_key AS gp_key
    FROM patient_keys
    WHERE usual_gp_key IS NOT NULL
)
SELECT h.practice_code, h.gp_id, w.month_start,
       CAST(sum(CASE WHEN pk.usual_gp_key = h.gp_key THEN c.gp_window_n ELSE 0 END) AS BIGINT)
           AS opr_numerator,
       CAST(sum(c.gp_window_n) AS BIGINT) AS opr_denominator
FROM patient_clinician_monthly c
JOIN months w ON w.month_number = c.month_number
JOIN patient_keys pk ON pk.patient_key = c.patient_key
JOIN holders h ON h.practice_code = pk.practice_code AND h.gp_key = c.clinician_key
WHERE c.gp_window_n > 0
GROUP BY h.practice_code, h.gp_id, w.month_start
