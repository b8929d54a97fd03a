-- secon: Sequential Continuity (Steinwachs 1979)
--        = consecutive pairs of contacts with the same clinician / (N - 1).
-- Contact order: appointment_date, then appointment_time (a missing time sorts after any given
-- time), then appointment_id. ABAB scores 0 although its UPC is 0.5. Eligible patients only.
WITH ordered AS (
    SELECT patient_id, clinician_id,
           lag(clinician_id) OVER (
               PARTITION BY patient_id
               ORDER BY appointment_date, appointment_time ASC NULLS LAST, appointment_id,
                        booked_practice_code
           ) AS previous_clinician_id
    FROM contacts
    WHERE counted AND in_window
)
SELECT o.patient_id,
       CAST(sum(CASE WHEN o.previous_clinician_id = o.clinician_id THEN 1 ELSE 0 END) AS DOUBLE)
           / (max(pc.contacts) - 1) AS secon
FROM ordered o
JOIN patient_contacts pc ON pc.patient_id = o.patient_id
WHERE pc.eligible
GROUP BY o.patient_id
