-- floor: the least any continuity computation must do, the benchmark's yardstick:
-- read every appointment once and count contacts per patient and clinician, with no filtering,
-- ordering, windows or joins. compute time / floor time says what the definitions cost on top.
SELECT patient_id, clinician_id, count(*) AS n
FROM appointments
GROUP BY patient_id, clinician_id
