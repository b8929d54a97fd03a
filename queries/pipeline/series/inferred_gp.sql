-- inferred_gp: per patient and calendar month of the window in which the patient has a GP
-- contact, the inferred regular GP, for exports that name no GP (docs/methods.md s.5): the GP seen most, at
-- least twice, in the 12 calendar months before the month (m-12 .. m-1); a tie goes to the GP
-- seen most recently (whose latest contact is later in contact order, docs/methods.md s.1:
-- date, time with a missing time later, appointment_id), a further tie (not reached: one
-- contact has one clinician) to the smallest clinician_id.
-- Patient-month rows: never among the results; kept only as refresh state (metrics/pipeline/refresh.py).
-- The contacts are SLICC's (docs/methods.md s.1 and s.4): attended, a recorded clinician,
-- a counted mode, a GP role (gp, gp_registrar, locum_gp) whatever the staff-group option, and
-- same-day contacts with one GP collapsed when that option is on (`gp_counted`).
-- Choices: "GP" is any GP role, so a registrar or locum can be the inferred GP (as for the usual
-- provider); the history reaches before the window (contacts start 12 calendar months before the
-- window's first month) but no further back than the data, so the first months of an extract
-- have little history; a contact in month m itself never counts towards m's inferred GP.
-- Keys, not text ids: patient_key and the inferred GP's clinician_key (inferred_gp_key); the
-- refresh state keeps these rows with text ids (refresh_state_inferred_gp.sql).
-- How: the GP's history count and latest contact for month m are those of the one span of
-- gp_spans that m falls in (GPs seen at least twice only). A month's rows depend on that month
-- alone, so the engine computes a few months per query (engine.PER_MONTH_STEPS; one at a time
-- at national scale): each month's spans meet that month's patients with a GP contact by an
-- equality join, not every active patient-month every span of its patient by a range join. Clinician keys follow clinician_id
-- order, so the smallest clinician_id is the largest negated key.
-- Only patient-months with a GP contact need an inferred GP (SLICC counts those contacts).
WITH active AS (
    SELECT DISTINCT g.patient_key, w.month_start
    FROM patient_clinician_monthly g
    JOIN months w ON w.month_number = g.month_number
    WHERE g.gp_n > 0
),
history AS (
    SELECT w.month_start, s.patient_key, s.clinician_key, s.n, s.last_date, s.last_contact
    FROM gp_spans s
    JOIN months w ON w.month_number >= s.from_month AND w.month_number < s.to_month
),
-- The pick is the largest (n, last_contact, -clinician_key): the most contacts, then the latest
-- in contact order, then the smallest clinician_id; the struct carries its count and date along.
picked AS (
    SELECT h.patient_key, h.month_start,
           max(struct_pack(n := h.n, last_contact := h.last_contact, key := -h.clinician_key,
                           last_date := h.last_date)) AS best
    FROM history h
    JOIN active a ON a.patient_key = h.patient_key AND a.month_start = h.month_start
    GROUP BY h.patient_key, h.month_start
)
SELECT patient_key, month_start, CAST(-best.key AS INTEGER) AS inferred_gp_key,
       CAST(best.n AS BIGINT) AS history_contacts, best.last_date AS history_last_date
FROM picked
