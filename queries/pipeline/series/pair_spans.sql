-- pair_spans: per patient and clinician, the contacts in the 12 calendar months ending with each
-- month, as spans of months over which they hold (from from_month up to to_month, exclusive):
--   n          counted contacts (`n` of patient_clinician_monthly: staff group, modes, same-day
--              collapse, as UPC counts them), for the rolling UPC (counted_spans.sql);
--   gp_n       GP contacts (`gp_n`: as SLICC counts them), and last_date and last_contact, the
--              date and contact-order place of the latest of them (patient_clinician_monthly's
--              gp_last_date and gp_last), for the inferred GP's 12-month history (gp_spans.sql).
-- How, without re-reading a year of months for every month: a month m's contacts count in the
-- windows ending m .. m+11, so they add at m and are taken away at m+12; running sums per patient
-- and clinician in month order give both counts from one change to the next, and the running
-- maximum of the months' last dates the latest contact (the last month still in the window is
-- the latest one; a row taking a month's contacts away carries that month's gp_last, which the
-- running maximum already holds, so it changes nothing). One window serves both counts: their changes fall in the same months.
-- Changes in one month share its running values (the default frame with ORDER BY is RANGE ...
-- CURRENT ROW: peers included), so of two rows in one month the first spans no months and is
-- dropped, as are spans that count nothing either step reads.
WITH changes AS (
    SELECT patient_key, clinician_key, month_number, n, gp_n, gp_last_date AS last_date,
           gp_last AS last_contact
    FROM patient_clinician_monthly
    WHERE n > 0 OR gp_n > 0
    UNION ALL
    SELECT patient_key, clinician_key, month_number + 12, -n, -gp_n, CAST(NULL AS DATE), gp_last
    FROM patient_clinician_monthly
    WHERE n > 0 OR gp_n > 0
),
spans AS (
    SELECT patient_key, clinician_key, month_number AS from_month,
           lead(month_number) OVER same_pair AS to_month,
           CAST(sum(n) OVER same_pair AS INTEGER) AS n,
           CAST(sum(gp_n) OVER same_pair AS INTEGER) AS gp_n,
           max(last_date) OVER same_pair AS last_date,
           max(last_contact) OVER same_pair AS last_contact
    FROM changes
    WINDOW same_pair AS (PARTITION BY patient_key, clinician_key ORDER BY month_number)
)
SELECT patient_key, clinician_key, from_month, to_month, n, gp_n, last_date, last_contact
FROM spans
WHERE from_month < to_month AND (n > 0 OR gp_n >= 2)
