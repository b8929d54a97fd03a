-- refresh_month_appointments: the appointments of the month joining the window (run_params is
-- the new month alone while this runs), the input of the refresh's month run: its OPR and
-- appointment-mix rows for that month.
SELECT a.*
FROM stored_appointments a
CROSS JOIN run_params rp
WHERE a.appointment_date BETWEEN rp.window_start AND rp.window_end
