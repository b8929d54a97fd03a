-- usual_provider: the clinician behind UPC, shown to users (docs/methods.md s.3): most contacts
-- in the window; a tie goes to the one seen most recently, i.e. whose latest contact is later in
-- contact order (last_contact: date, then time with a missing time later, then appointment_id);
-- a further tie (not reached: one contact has one clinician) to the smallest clinician_id, which
-- is the smallest key (clinician_keys.sql). Given for every patient with a counted contact (the
-- indices need N >= minimum).
SELECT patient_key, clinician_key AS usual_clinician_key
FROM patient_clinician_counts
QUALIFY row_number() OVER (
    PARTITION BY patient_key ORDER BY n DESC, last_contact DESC, clinician_key
) = 1
