-- list_holder_opr: Own Patient Ratio (BJGP 2023;73:279) per list-holding GP and calendar month:
-- that GP's GP contacts with patients of the GP's own list / all that GP's GP contacts with the
-- practice's patients. A list holder is a clinician named as usual_gp_id of at least one patient
-- of the practice. Contacts belong to the patient's registered practice (contacts.sql).
WITH holders AS (
    SELECT DISTINCT practice_code, usual_gp_id AS gp_id
    FROM patient_practice
    WHERE usual_gp_id IS NOT NULL
)
SELECT h.practice_code, h.gp_id, m.month_start,
       CAST(sum(CASE WHEN pp.usual_gp_id = h.gp_id THEN 1 ELSE 0 END) AS BIGINT) AS opr_numerator,
       count(*) AS opr_denominator
FROM contacts c
JOIN holders h ON h.practice_code = c.practice_code AND h.gp_id = c.clinician_id
JOIN patient_practice pp ON pp.patient_id = c.patient_id
JOIN months m ON m.month_start = CAST(date_trunc('month', c.appointment_date) AS DATE)
WHERE c.gp_counted AND c.in_window
GROUP BY h.practice_code, h.gp_id, m.month_start
