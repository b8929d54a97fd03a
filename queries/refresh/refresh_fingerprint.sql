-- refresh_fingerprint: what an incremental refresh (metrics/pipeline/refresh.py) must find unchanged
-- since the build it extends: the patients and practices tables whole, and the appointments
-- dated up to the end of the previous window (refresh_params.previous_window_end). Each is a
-- row count and an order-free checksum (the sum of a hash of every row): if either differs,
-- earlier months changed and only a full rebuild is correct.
SELECT 'appointments' AS source, count(*) AS row_count,
       coalesce(sum(hash(a)), 0)::HUGEINT AS checksum
FROM stored_appointments a
CROSS JOIN refresh_params f
WHERE a.appointment_date <= f.previous_window_end
UNION ALL
SELECT 'patients', count(*), coalesce(sum(hash(p)), 0)::HUGEINT FROM stored_patients p
UNION ALL
SELECT 'practices', count(*), coalesce(sum(hash(r)), 0)::HUGEINT FROM stored_practices r
