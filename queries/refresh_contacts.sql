-- refresh_contacts: the contacts of the new window (metrics/refresh.py) without re-ranking every
-- appointment: a contact row depends only on its appointment, its day (same-day collapse ranks
-- within one patient, clinician and day) and the patient's practice, never on the window, except
-- for `in_window` and the look-back bound. So: the stored contacts still on or after the new
-- look-back start, plus the contacts of the new month (month_contacts), with `in_window` set for
-- the new window.
WITH merged AS (
    SELECT s.* FROM state_contacts s
    CROSS JOIN run_params rp
    WHERE s.appointment_date >= rp.lookback_start
    UNION ALL BY NAME
    SELECT * FROM month_contacts
)
SELECT m.* REPLACE (m.appointment_date >= rp.window_start AS in_window)
FROM merged m
CROSS JOIN run_params rp
