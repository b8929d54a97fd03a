-- refresh_list_rolling_upc: list_rolling_upc rows of the new window (metrics/pipeline/refresh.py).
-- A month's rows depend only on the contacts of the 12 months up to it, which the old and the new
-- window both hold for every month but the first, and on which list each patient is in, which the
-- refresh's checks keep as it was (patients unchanged; no unregistered patient moved practice).
-- So: the stored rows strictly between the new window's first and last months, plus this run's
-- rows, computed for those two months alone (list_rolling_upc_boundary). Columns as
-- list_rolling_upc.sql.
SELECT s.*
FROM state_list_rolling_upc s
CROSS JOIN refresh_params f
WHERE s.month_start > f.window_start AND s.month_start < f.new_month_start
UNION ALL BY NAME
SELECT * FROM list_rolling_upc_boundary
