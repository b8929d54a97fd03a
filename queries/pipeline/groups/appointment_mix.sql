-- appointment_mix: every appointment in the window (any status, role and mode) counted per
-- registered practice, calendar month, clinician role, mode and status: who patients saw and how
-- (triage away from GPs is a main driver of falling continuity), and the DNA rate.
SELECT pp.practice_code, m.month_start, a.clinician_role, a.mode, a.status,
       count(*) AS appointments
FROM appointments a
JOIN patient_practice pp ON pp.patient_id = a.patient_id
JOIN months m ON m.month_start = CAST(date_trunc('month', a.appointment_date) AS DATE)
CROSS JOIN run_params rp
WHERE a.appointment_date BETWEEN rp.window_start AND rp.window_end
GROUP BY pp.practice_code, m.month_start, a.clinician_role, a.mode, a.status
