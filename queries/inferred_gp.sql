-- inferred_gp: per patient and calendar month of the window in which the patient has a GP
-- contact, the inferred regular GP, for exports that name no GP (issue 7): the GP seen most, at
-- least twice, in the 12 calendar months before the month (m-12 .. m-1); a tie goes to the GP
-- seen most recently (latest contact date), a further tie to the smallest clinician_id.
-- Patient-month rows: never among the results; kept only as refresh state (metrics/refresh.py).
-- The contacts are SLICC's (continuity-indices.md s.1 and s.3): attended, a recorded clinician,
-- a counted mode, a GP role (gp, gp_registrar, locum_gp) whatever the staff-group option, and
-- same-day contacts with one GP collapsed when that option is on (`gp_counted`).
-- Choices: "GP" is any GP role, so a registrar or locum can be the inferred GP (as for the usual
-- provider); the history reaches before the window (contacts start 12 calendar months before the
-- window's first month) but no further back than the data, so the first months of an extract
-- have little history; a contact in month m itself never counts towards m's inferred GP.
-- Keys, not text ids: patient_key and the inferred GP's clinician_key (inferred_gp_key); the
-- refresh state keeps these rows with text ids (refresh_state_inferred_gp.sql).
--
-- How, without re-reading a year of contacts for every month (as counted_spans.sql): a
-- month m's n GP contacts count in the histories of months m+1 .. m+12, so they add n at m+1 and
-- take it away at m+13; a running sum per patient and GP gives that GP's history count from one
-- change to the next (`spans`), and the running maximum of the months' last dates its latest
-- contact (the last month still in the history is the latest one). Each month with a GP contact
-- then finds, per GP, the one span it falls in. Clinician keys follow clinician_id order, so the
-- smallest clinician_id is the largest negated key.
-- Only patient-months with a GP contact need an inferred GP (SLICC counts those contacts).
WITH active AS (
    SELECT DISTINCT g.patient_key, w.month_start, w.month_number
    FROM patient_clinician_monthly g
    JOIN months w ON w.month_number = g.month_number
    WHERE g.gp_n > 0
),
changes AS (
    SELECT patient_key, clinician_key, month_number + 1 AS month_number, gp_n AS change,
           gp_last_date AS last_date
    FROM patient_clinician_monthly
    WHERE gp_n > 0
    UNION ALL
    SELECT patient_key, clinician_key, month_number + 13, -gp_n, CAST(NULL AS DATE)
    FROM patient_clinician_monthly
    WHERE gp_n > 0
),
-- Changes in one month share its running values (the default frame with ORDER BY is RANGE
-- ... CURRENT ROW: peers included); of two rows in one month, the first spans no months (lead is
-- the same month) and the second spans the rest.
spans AS (
    SELECT patient_key, clinician_key, month_number AS from_month,
           CAST(sum(change) OVER same_pair AS INTEGER) AS n,
           max(last_date) OVER same_pair AS last_date,
           lead(month_number) OVER same_pair AS to_month
    FROM changes
    WINDOW same_pair AS (PARTITION BY patient_key, clinician_key ORDER BY month_number)
),
-- Only GPs seen at least twice can be picked, so shorter histories are left out before ranking.
history AS (
    SELECT a.patient_key, a.month_start, s.clinician_key, s.n, s.last_date
    FROM active a
    JOIN spans s
      ON s.patient_key = a.patient_key
     AND a.month_number >= s.from_month AND a.month_number < s.to_month
    WHERE s.n >= 2
),
-- The pick is the largest (n, last_date, -clinician_key): the most contacts, then the latest,
-- then the smallest clinician_id; the struct carries its count and date along.
picked AS (
    SELECT patient_key, month_start,
           max(struct_pack(n := n, last_date := last_date, key := -clinician_key)) AS best
    FROM history
    GROUP BY patient_key, month_start
)
SELECT patient_key, month_start, CAST(-best.key AS INTEGER) AS inferred_gp_key,
       CAST(best.n AS BIGINT) AS history_contacts, best.last_date AS history_last_date
FROM picked
