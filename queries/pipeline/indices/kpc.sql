-- kpc: Known Provider of Care = share of the window's contacts whose clinician the patient had
-- already seen in a counted contact in the 365 days before that contact's date.
-- Convention: "before" means an earlier date (a same-day contact does not make the clinician
-- known), and the look-back may reach up to 365 days before the window start. Eligible patients
-- only, as patient_contacts.sql decides (docs/methods.md s.2).
-- Days are numbered, so that the latest earlier day with the same clinician is a running maximum
-- over the days strictly before (RANGE ... 1 PRECEDING), read off each contact in one window.
WITH numbered AS (
    SELECT patient_key, clinician_key, in_window,
           date_diff('day', DATE '1970-01-01', appointment_date) AS day_number
    FROM contacts
    WHERE counted
      AND patient_key IN (SELECT patient_key FROM patient_contacts WHERE eligible)
),
known_contacts AS (
    SELECT patient_key, in_window,
           day_number - max(day_number) OVER (
               PARTITION BY patient_key, clinician_key ORDER BY day_number
               RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ) <= 365 AS known
    FROM numbered
)
-- N is the patient's contacts in the window among the rows read here (patient_contacts'
-- `contacts`, at least 1 for an eligible patient): no join needed for it.
SELECT patient_key,
       CAST(sum(CASE WHEN in_window AND known THEN 1 ELSE 0 END) AS DOUBLE)
           / sum(CASE WHEN in_window THEN 1 ELSE 0 END) AS kpc
FROM known_contacts
GROUP BY patient_key
