-- slice_named_gp: monthly SLICC counts of the check slice's patients alone, by registered
-- practice, compared afterwards with metrics/reference.py's named_gp_ratios. The engine sums
-- SLICC straight from patient_clinician_monthly into groups of all patients
-- (group_named_gp_monthly.sql); this sums the same rows, for the slice's patients, the same way.
SELECT pk.practice_code, m.month_start,
       CAST(sum(c.gp_window_n) AS BIGINT) AS gp_contacts,
       CAST(sum(CASE WHEN c.clinician_key = pk.usual_gp_key THEN c.gp_window_n ELSE 0 END)
            AS BIGINT) AS slicc_numerator,
       CAST(sum(CASE WHEN pk.usual_gp_id IS NOT NULL THEN c.gp_window_n ELSE 0 END) AS BIGINT)
           AS slicc_denominator
FROM patient_clinician_monthly c
JOIN patient_keys pk ON pk.patient_key = c.patient_key
JOIN months m ON m.month_number = c.month_number
WHERE c.gp_window_n > 0
  AND pk.patient_id IN (SELECT patient_id FROM slice_patients)
GROUP BY pk.practice_code, m.month_start
