-- contacts: every counted contact, the single input of every index (docs/methods.md s.1).
--
-- Kept: status attended; a recorded clinician (one with a key: clinician_keys); a counted mode;
-- dated from lookback_start (engine.lookback_start: 365 days before the window start for KPC's
-- look-back, or 12 calendar months before its first month for the inferred GP, whichever is
-- earlier) to window_end inclusive; a role in the chosen staff group (`counted`) or a GP role
-- (`gp_counted`, for SLICC and OPR, which always use GP contacts whatever the staff-group option).
-- Patients and clinicians are integer keys (patient_keys, clinician_keys): every step after this
-- one sorts and groups on them. The practice the appointment was booked under
-- (booked_practice_code) only breaks ties in contact order; the patient's practice is
-- patient_keys'. Role and mode are not kept: they choose the rows, and nothing after this step
-- reads them.
-- Same-day collapse (option): contacts of one patient with one clinician on one day become the
-- first of them in contact order (date, time with a missing time last, appointment_id), done
-- separately for the staff-group set and the GP set so that each set keeps its own first.
WITH attended AS (
    SELECT a.appointment_id, pk.patient_key, k.clinician_key,
           a.practice_code AS booked_practice_code, a.appointment_date, a.appointment_time,
           rg.in_staff_group, rg.is_gp
    FROM appointments a
    JOIN patient_keys pk ON pk.patient_id = a.patient_id
    JOIN clinician_keys k ON k.clinician_id = a.clinician_id
    JOIN role_groups rg ON rg.role = a.clinician_role
    JOIN counted_modes cm ON cm.mode = a.mode
    CROSS JOIN run_params rp
    WHERE a.status = 'attended'
      AND a.appointment_date BETWEEN rp.lookback_start AND rp.window_end
      AND (rg.in_staff_group OR rg.is_gp)
),
-- One ordered window serves both sets: a row's rank within its set is the running count of that
-- set's rows up to it (one sort instead of two; (appointment_id, booked_practice_code) is unique,
-- so the order has no ties).
ranked AS (
    SELECT *,
           sum(CASE WHEN in_staff_group THEN 1 ELSE 0 END) OVER same_day AS staff_rank,
           sum(CASE WHEN is_gp THEN 1 ELSE 0 END) OVER same_day AS gp_rank
    FROM attended
    WINDOW same_day AS (
        PARTITION BY patient_key, clinician_key, appointment_date
        ORDER BY appointment_time ASC NULLS LAST, appointment_id, booked_practice_code
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
)
SELECT r.appointment_id, r.patient_key, r.clinician_key, r.booked_practice_code,
       r.appointment_date, r.appointment_time,
       r.appointment_date >= rp.window_start AS in_window,
       r.in_staff_group AND (NOT rp.collapse_same_day OR r.staff_rank = 1) AS counted,
       r.is_gp AND (NOT rp.collapse_same_day OR r.gp_rank = 1) AS gp_counted
FROM ranked r
CROSS JOIN run_params rp
