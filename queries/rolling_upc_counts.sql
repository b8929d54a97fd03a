-- rolling_upc_counts: per window month and patient (integer key), N and max_j n_j over the 12
-- calendar months ending with that month, for patient_rolling_upc. Counts the same contacts as
-- UPC (`counted`: staff group, modes, same-day collapse), including the look-back year so the
-- first months of the window have a full 12 months behind them. Eligible patients only (N >= the
-- minimum; the index is undefined below it).
-- Each month falls in exactly one of a patient's spans per clinician (counted_spans.sql), whose
-- n is n_j for that month: N and max_j n_j are one GROUP BY away.
-- A month's rows depend on that month alone, so the engine may compute the months one at a time
-- (engine.PER_MONTH_STEPS). Text ids are joined once, afterwards (patient_rolling_upc), not
-- once per month.
SELECT w.month_start, w.month_number, s.patient_key,
       CAST(sum(s.n) AS INTEGER) AS contacts, max(s.n) AS max_n
FROM counted_spans s
JOIN months w ON w.month_number >= s.from_month AND w.month_number < s.to_month
GROUP BY w.month_start, w.month_number, s.patient_key
HAVING sum(s.n) >= (SELECT min_contacts FROM run_params)
