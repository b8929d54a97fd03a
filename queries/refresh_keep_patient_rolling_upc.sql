-- refresh_keep_patient_rolling_upc: bring the store's kept patient_rolling_upc rows
-- (state_patient_rolling_upc in the attached store) to the new window in place
-- (metrics/refresh.py): drop the months up to and including the new first month, then add this
-- run's rows, computed for the first and last months alone, with text ids
-- (patient_rolling_upc_boundary, from refresh_state_patient_rolling_upc.sql). The result equals
-- the state a full build keeps.
DELETE FROM store.state_patient_rolling_upc
WHERE month_start <= (SELECT window_start FROM refresh_params);
INSERT INTO store.state_patient_rolling_upc BY NAME SELECT * FROM patient_rolling_upc_boundary;
