-- out_rolling_upc: rolling_upc.csv, per practice and window month, UPC over the 12 calendar
-- months ending with that month: mean over eligible patients and pooled, with their counts.
-- Blank where no patient reaches the minimum in that window (missing, never zero).
SELECT group_code AS practice_code, month_start AS month, eligible_patients,
       upc_mean, upc_pooled, upc_pooled_numerator, upc_pooled_denominator, history_months
FROM group_rolling_upc
WHERE level = 'practice'
ORDER BY practice_code, month
