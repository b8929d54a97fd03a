-- practice_first_month: each practice's first month with a counted contact, looking back at most
-- 12 months before the window's first month (months numbered year * 12 + month). For
-- group_rolling_upc's history_months: a window month whose 12 months reach before a
-- practice's first data reads high, and a chart marks it.
SELECT pk.practice_code, min(m.month_number) AS month_number
FROM patient_clinician_monthly m
JOIN patient_keys pk ON pk.patient_key = m.patient_key
WHERE m.n > 0
  AND m.month_number >= (SELECT min(month_number) FROM months) - 12
GROUP BY pk.practice_code
