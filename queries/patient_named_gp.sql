-- patient_named_gp: per patient and calendar month, the GP contacts behind SLICC
-- (Sidaway-Lee et al. BJGP 2019): all GP contacts; those of patients who have a named GP (the
-- SLICC denominator); and those with that named GP (the SLICC numerator). GP contacts always,
-- whatever the staff-group option; GPs who hold no list stay in the denominator.
SELECT c.patient_id, m.month_start,
       count(*) AS gp_contacts,
       CAST(sum(CASE WHEN pp.usual_gp_id IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS slicc_denominator,
       CAST(sum(CASE WHEN c.clinician_id = pp.usual_gp_id THEN 1 ELSE 0 END) AS BIGINT) AS slicc_numerator
FROM contacts c
JOIN patient_practice pp ON pp.patient_id = c.patient_id
JOIN months m ON m.month_start = CAST(date_trunc('month', c.appointment_date) AS DATE)
WHERE c.gp_counted AND c.in_window
GROUP BY c.patient_id, m.month_start
