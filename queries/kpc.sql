-- kpc: Known Provider of Care = share of the window's contacts whose clinician the patient had
-- already seen in a counted contact in the 365 days before that contact's date.
-- Convention: "before" means an earlier date (a same-day contact does not make the clinician
-- known), and the look-back may reach up to 365 days before the window start. Eligible only.
WITH seen_days AS (
    SELECT DISTINCT patient_id, clinician_id, appointment_date
    FROM contacts
    WHERE counted
),
known_days AS (
    SELECT patient_id, clinician_id, appointment_date,
           date_diff('day',
                     lag(appointment_date) OVER (
                         PARTITION BY patient_id, clinician_id ORDER BY appointment_date),
                     appointment_date) <= 365 AS known
    FROM seen_days
)
SELECT c.patient_id,
       CAST(sum(CASE WHEN k.known THEN 1 ELSE 0 END) AS DOUBLE) / max(pc.contacts) AS kpc
FROM contacts c
JOIN known_days k
  ON k.patient_id = c.patient_id AND k.clinician_id = c.clinician_id
 AND k.appointment_date = c.appointment_date
JOIN patient_contacts pc ON pc.patient_id = c.patient_id
WHERE c.counted AND c.in_window AND pc.eligible
GROUP BY c.patient_id
