-- patient_clinician_monthly: per patient, clinician and calendar month (numbered year * 12 +
-- month, so month ranges are integer arithmetic), the contacts that the monthly steps read:
--   n            counted contacts (staff group, modes, same-day collapse), as UPC counts them,
--                for the rolling UPC (pair_spans, counted_spans);
--   gp_n         GP contacts (`gp_counted`, as SLICC counts them), for inferred_gp (pair_spans,
--                gp_spans) and active patient-months;
--   gp_last_date the last GP contact's date (inferred_gp's tie-break);
--   gp_window_n  GP contacts in the window (in the first month, those on or after window_start),
--                for SLICC (group_named_gp_monthly, group_inferred_gp_monthly) and OPR.
-- Every contact from lookback_start (contacts.sql), so the first window months have a year of
-- history behind them. One pass over contacts serves them all; each reads a few million rows
-- instead of every contact.
SELECT c.patient_key, c.clinician_key,
       CAST(year(c.appointment_date) * 12 + month(c.appointment_date) AS INTEGER) AS month_number,
       CAST(sum(CASE WHEN c.counted THEN 1 ELSE 0 END) AS INTEGER) AS n,
       CAST(sum(CASE WHEN c.gp_counted THEN 1 ELSE 0 END) AS INTEGER) AS gp_n,
       max(CASE WHEN c.gp_counted THEN c.appointment_date END) AS gp_last_date,
       CAST(sum(CASE WHEN c.gp_counted AND c.in_window THEN 1 ELSE 0 END) AS INTEGER)
           AS gp_window_n
FROM contacts c
WHERE c.counted OR c.gp_counted
GROUP BY c.patient_key, c.clinician_key, year(c.appointment_date) * 12 + month(c.appointment_date)
