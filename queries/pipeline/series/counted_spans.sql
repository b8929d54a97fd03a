-- counted_spans: per patient and clinician, how many counted contacts (`n` of
-- patient_clinician_monthly: staff group, modes, same-day collapse, as UPC counts them) fall in
-- the 12 calendar months ending with each month, as spans of months over which that count holds:
-- n from from_month up to to_month (exclusive), n > 0, with the patient's list (list_keys). For
-- list_rolling_upc. Every month from lookback_start on, so the first window months have a year
-- behind them. The spans are pair_spans' (pair_spans.sql); each month falls in at most one span
-- of a patient and clinician.
-- Why spans: each month of the window then reads one row per patient and clinician, instead of
-- re-reading a year of monthly counts (a 12-fold fan-out).
SELECT s.patient_key, pk.list_key, s.from_month, s.to_month, s.n
FROM pair_spans s
JOIN patient_keys pk ON pk.patient_key = s.patient_key
WHERE s.n > 0
