-- usual_provider: the clinician behind UPC, shown to users: most contacts in the window; a tie
-- goes to the one seen most recently (latest contact date); a further tie to the smallest
-- clinician_id, which is the smallest key (clinician_keys.sql). Given for every patient with a
-- counted contact (the indices need N >= minimum).
SELECT patient_key, clinician_key AS usual_clinician_key
FROM patient_clinician_counts
QUALIFY row_number() OVER (
    PARTITION BY patient_key ORDER BY n DESC, last_date DESC, clinician_key
) = 1
