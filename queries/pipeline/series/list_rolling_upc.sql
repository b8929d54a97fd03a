-- list_rolling_upc: rolling 12-month UPC (docs/methods.md s.6; UPC = max_j n_j / N) summed over
-- the eligible patients of each registered list (list_keys: a practice and a named GP, or the
-- practice's patients without one) for each month of the window: the sums from which
-- group_rolling_upc builds every group's mean, standard deviation and pooled UPC.
-- A patient's UPC for month m counts the same contacts as UPC (`counted`: staff group, modes,
-- same-day collapse) in the 12 calendar months ending with m, the look-back year included so the
-- first months of the window have a full 12 months behind them; eligible patients only, by
-- the rule of patient_contacts.sql (N >= run_params.min_contacts; the index is undefined below
-- it) applied to the 12 months' N, which is why it cannot read that step's `eligible`. Each month falls in exactly one of a patient's spans
-- per clinician (counted_spans.sql), whose n is n_j for that month: N and max_j n_j are one GROUP
-- BY away, and the lists one more.
-- Why lists, not patients: a patient-month table would hold every eligible patient for every
-- month (76 million rows at 100M appointments) only to be summed into groups; a list's sums are
-- what every group is summed from. A month's rows depend on that month alone (and on which list
-- each patient is in, which a refresh checks is unchanged), so the engine computes a few months
-- per query (engine.PER_MONTH_STEPS; one at a time at national scale) and a refresh reuses the
-- stored rows of the months between its first and last (metrics/pipeline/refresh.py). Text ids: the store keeps these rows as they are.
-- A patient is in one list: any_value carries it, so the GROUP BY hashes the patient alone.
WITH patient_months AS (
    SELECT w.month_start, s.patient_key, any_value(s.list_key) AS list_key,
           sum(s.n) AS contacts,
           max(s.n) AS max_n,
           CAST(max(s.n) AS DOUBLE) / sum(s.n) AS upc
    FROM counted_spans s
    JOIN months w ON w.month_number >= s.from_month AND w.month_number < s.to_month
    GROUP BY w.month_start, s.patient_key
    HAVING sum(s.n) >= (SELECT min_contacts FROM run_params)
),
list_months AS (
    SELECT month_start, list_key, count(*) AS eligible_patients,
           sum(upc) AS upc_sum, sum(upc * upc) AS upc_sum_squares,
           sum(max_n) AS upc_pooled_numerator, sum(contacts) AS upc_pooled_denominator
    FROM patient_months
    GROUP BY month_start, list_key
)
SELECT m.month_start, l.practice_code, l.usual_gp_id,
       CAST(m.eligible_patients AS BIGINT) AS eligible_patients, m.upc_sum, m.upc_sum_squares,
       CAST(m.upc_pooled_numerator AS BIGINT) AS upc_pooled_numerator,
       CAST(m.upc_pooled_denominator AS BIGINT) AS upc_pooled_denominator
FROM list_months m
JOIN list_keys l ON l.list_key = m.list_key
