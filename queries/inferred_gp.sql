-- inferred_gp: per patient and calendar month of the window in which the patient has a GP contact,
-- the inferred regular GP, for exports
-- that name no GP (issue 7): the GP seen most, at least twice, in the 12 calendar months before
-- the month (m-12 .. m-1); a tie goes to the GP seen most recently (latest contact date), a
-- further tie to the smallest clinician_id. Patient-month rows: never kept in the store.
-- The contacts are SLICC's (continuity-indices.md s.1 and s.3): attended, a recorded clinician,
-- a counted mode, a GP role (gp, gp_registrar, locum_gp) whatever the staff-group option, and
-- same-day contacts with one GP collapsed when that option is on (`gp_counted`).
-- Choices: "GP" is any GP role, so a registrar or locum can be the inferred GP (as for the usual
-- provider); the history reaches before the window (contacts start 12 calendar months before the
-- window's first month) but no further back than the data, so the first months of an extract
-- have little history; a contact in month m itself never counts towards m's inferred GP.
-- Months are numbered year * 12 + month so the range join stays plain integer arithmetic.
WITH gp_monthly AS (
    SELECT patient_id, clinician_id,
           year(appointment_date) * 12 + month(appointment_date) AS month_number,
           count(*) AS n,
           max(appointment_date) AS last_date
    FROM contacts
    WHERE gp_counted
    GROUP BY patient_id, clinician_id, year(appointment_date) * 12 + month(appointment_date)
),
window_months AS (
    SELECT month_start, year(month_start) * 12 + month(month_start) AS month_number
    FROM months
),
-- Only patient-months with a GP contact need an inferred GP (SLICC counts those contacts), so
-- the 12-month history is gathered for those alone: a few months per patient, not every month.
active AS (
    SELECT DISTINCT g.patient_id, w.month_start, w.month_number
    FROM gp_monthly g
    JOIN window_months w ON w.month_number = g.month_number
),
history AS (
    SELECT a.month_start, g.patient_id, g.clinician_id,
           CAST(sum(g.n) AS BIGINT) AS n,
           max(g.last_date) AS last_date
    FROM active a
    JOIN gp_monthly g
      ON g.patient_id = a.patient_id
     AND g.month_number BETWEEN a.month_number - 12 AND a.month_number - 1
    GROUP BY a.month_start, g.patient_id, g.clinician_id
),
ranked AS (
    SELECT month_start, patient_id, clinician_id, n, last_date,
           row_number() OVER (
               PARTITION BY month_start, patient_id ORDER BY n DESC, last_date DESC, clinician_id
           ) AS pick
    FROM history
)
SELECT patient_id, month_start, clinician_id AS inferred_gp_id, n AS history_contacts,
       last_date AS history_last_date
FROM ranked
WHERE pick = 1 AND n >= 2
