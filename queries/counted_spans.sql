-- counted_spans: per patient and clinician, how many counted contacts (`n` of
-- patient_clinician_monthly: staff group, modes, same-day collapse, as UPC counts them) fall in
-- the 12 calendar months ending with each month, as spans of months over which that count holds:
-- n from from_month up to to_month (exclusive), n > 0, with the patient's list (list_keys). For
-- list_rolling_upc.
-- A month m's n contacts count in the windows ending m .. m+11, so they add n at month m and take
-- it away at m+12; the running sum of those changes, per patient and clinician in month order,
-- holds until the next change. Every month from lookback_start on, so the first window months
-- have a year behind them. Why spans: each month of the window then reads one row per patient
-- and clinician, instead of re-reading a year of monthly counts (a 12-fold fan-out).
WITH changes AS (
    SELECT patient_key, clinician_key, month_number, n AS change
    FROM patient_clinician_monthly
    WHERE n > 0
    UNION ALL
    SELECT patient_key, clinician_key, month_number + 12, -n
    FROM patient_clinician_monthly
    WHERE n > 0
),
-- Changes in one month share its running sum (the default frame with ORDER BY is RANGE ...
-- CURRENT ROW: peers included); of two rows in one month, the first spans no months (lead is the
-- same month) and the second spans the rest.
spans AS (
    SELECT patient_key, month_number AS from_month,
           lead(month_number) OVER same_pair AS to_month,
           CAST(sum(change) OVER same_pair AS INTEGER) AS n
    FROM changes
    WINDOW same_pair AS (PARTITION BY patient_key, clinician_key ORDER BY month_number)
)
SELECT s.patient_key, pk.list_key, s.from_month, s.to_month, s.n
FROM spans s
JOIN patient_keys pk ON pk.patient_key = s.patient_key
WHERE s.n > 0
