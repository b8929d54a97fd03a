-- gp_spans: per patient and GP, how many GP contacts (`gp_n` of patient_clinician_monthly: as
-- SLICC counts them) fall in the 12 calendar months before each month, m-12 .. m-1 (the inferred
-- GP's history, inferred_gp.sql), with the latest contact's date, as spans of months over which
-- they hold: from from_month up to to_month (exclusive). Only counts of at least 2: a GP seen
-- once cannot be the inferred GP.
-- How, without re-reading a year of contacts for every month (as counted_spans.sql): a
-- month m's n GP contacts count in the histories of months m+1 .. m+12, so they add n at m+1 and
-- take it away at m+13; a running sum per patient and GP gives that GP's history count from one
-- change to the next, and the running maximum of the months' last dates its latest contact (the
-- last month still in the history is the latest one).
WITH changes AS (
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
)
SELECT patient_key, clinician_key, from_month, to_month, n, last_date
FROM spans
WHERE n >= 2
