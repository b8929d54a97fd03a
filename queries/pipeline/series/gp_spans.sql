-- gp_spans: per patient and GP, how many GP contacts (`gp_n` of patient_clinician_monthly: as
-- SLICC counts them) fall in the 12 calendar months before each month, m-12 .. m-1 (the inferred
-- GP's history, inferred_gp.sql), with the latest contact's date and place in contact order
-- (last_contact, patient_clinician_monthly.sql), as spans of months over which
-- they hold: from from_month up to to_month (exclusive). Only counts of at least 2: a GP seen
-- once cannot be the inferred GP.
-- The history before month m is the 12-month window ending m-1, so these are pair_spans'
-- (pair_spans.sql) GP counts one month later.
SELECT patient_key, clinician_key, from_month + 1 AS from_month, to_month + 1 AS to_month,
       gp_n AS n, last_date, last_contact
FROM pair_spans
WHERE gp_n >= 2
