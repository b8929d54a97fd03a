-- refresh_appointment_mix: appointment counts per practice, month, role, mode and status for the
-- new window (metrics/pipeline/refresh.py) = the stored months strictly between the new window's first
-- and last months (a month's counts depend only on its own appointments and the registrations,
-- checked unchanged) plus this run's rows, computed for those two months alone.
SELECT s.*
FROM result_appointment_mix s
CROSS JOIN refresh_params f
WHERE s.month_start > f.window_start AND s.month_start < f.new_month_start
UNION ALL BY NAME
SELECT * FROM appointment_mix
