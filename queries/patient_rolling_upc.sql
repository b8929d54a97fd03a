-- patient_rolling_upc: each eligible patient's UPC over the 12 calendar months ending with each
-- month of the window (continuity-indices.md UPC = max_j n_j / N), for the rolling-UPC SPC chart
-- (group_rolling_upc). Counts the same contacts as UPC (`counted`: staff group, modes, same-day
-- collapse), including the look-back year so the first months of the window have a full 12
-- months behind them. Eligible patients only (N >= the minimum; the index is undefined below it).
-- Each month falls in exactly one of a patient's spans per clinician (counted_spans.sql), whose
-- n is n_j for that month: N and max_j n_j are one GROUP BY away.
-- A month's rows depend on that month alone, so the engine may compute the months one at a time
-- (engine.PER_MONTH_STEPS), and a refresh reuses the stored rows of the months between its first
-- and last (metrics/refresh.py). Keyed by patient_key; the store keeps these rows with text ids
-- (refresh_state_patient_rolling_upc.sql).
SELECT w.month_start, s.patient_key,
       CAST(sum(s.n) AS BIGINT) AS contacts,
       CAST(max(s.n) AS BIGINT) AS max_n,
       CAST(max(s.n) AS DOUBLE) / sum(s.n) AS upc
FROM counted_spans s
JOIN months w ON w.month_number >= s.from_month AND w.month_number < s.to_month
GROUP BY w.month_start, s.patient_key
HAVING sum(s.n) >= (SELECT min_contacts FROM run_params)
