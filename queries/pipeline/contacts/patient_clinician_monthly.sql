-- patient_clinician_monthly: per patient, clinician and calendar month (numbered year * 12 +
-- month, so month ranges are integer arithmetic), the contacts that the later steps read:
--   n               counted contacts (staff group, modes, same-day collapse), as UPC counts
--                   them, for the rolling UPC (pair_spans, counted_spans);
--   window_n        those of them in the window, and window_last, the latest of those in
--                   contact order, for n_j and the usual provider (patient_clinician_counts);
--   gp_n            GP contacts (`gp_counted`, as SLICC counts them), for inferred_gp
--                   (pair_spans, gp_spans) and active patient-months;
--   gp_last_date    the last GP contact's date, and gp_last, that contact's place in contact
--                   order (inferred_gp's tie-break);
--   gp_window_n     GP contacts in the window (in the first month, those on or after
--                   window_start), for SLICC (group_named_gp_monthly, group_inferred_gp_monthly)
--                   and OPR.
-- Every contact from lookback_start (contacts.sql), so the first window months have a year of
-- history behind them. One pass over contacts serves them all; each reads a few million rows
-- instead of every contact.
-- contact_order is the one SQL definition of "later" for the tie-breaks (docs/methods.md s.1):
-- date, then time with a missing time after any given time, then appointment_id, then the
-- practice booked under; structs compare field by field, so the largest is the latest. (A
-- patient's contacts are unique on the last two fields, so the order has no ties.) The flag
-- is spelled out rather than sorting a NULL time last, because engines sort a NULL inside a
-- struct differently; as a CASE without ELSE it is a nullable field, which Spark's Arrow export
-- needs inside a struct that may itself be NULL (no contacts of that kind in the month).
WITH ordered AS (
    SELECT patient_key, clinician_key, appointment_date, counted, gp_counted, in_window,
           CAST(year(appointment_date) * 12 + month(appointment_date) AS INTEGER)
               AS month_number,
           struct_pack(day := appointment_date,
                       time_missing := CASE WHEN appointment_time IS NULL THEN TRUE
                                            WHEN appointment_time IS NOT NULL THEN FALSE END,
                       at := appointment_time, appointment_id := appointment_id,
                       booked := booked_practice_code) AS contact_order
    FROM contacts
    WHERE counted OR gp_counted
)
SELECT patient_key, clinician_key, month_number,
       CAST(sum(CASE WHEN counted THEN 1 ELSE 0 END) AS INTEGER) AS n,
       CAST(sum(CASE WHEN counted AND in_window THEN 1 ELSE 0 END) AS INTEGER) AS window_n,
       max(CASE WHEN counted AND in_window THEN contact_order END) AS window_last,
       CAST(sum(CASE WHEN gp_counted THEN 1 ELSE 0 END) AS INTEGER) AS gp_n,
       max(CASE WHEN gp_counted THEN appointment_date END) AS gp_last_date,
       max(CASE WHEN gp_counted THEN contact_order END) AS gp_last,
       CAST(sum(CASE WHEN gp_counted AND in_window THEN 1 ELSE 0 END) AS INTEGER)
           AS gp_window_n
FROM ordered
GROUP BY patient_key, clinician_key, month_number
