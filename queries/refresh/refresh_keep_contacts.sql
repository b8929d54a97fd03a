-- refresh_keep_contacts: bring the store's kept contacts (state_contacts in the attached store)
-- to the new window in place, instead of writing them all again (metrics/pipeline/refresh.py): drop the
-- rows now before the look-back start, mark the month that left the window as outside it, and
-- add the new month's contacts (month_contacts, with text ids: refresh_state_contacts.sql). The
-- result equals the state a full build keeps.
DELETE FROM store.state_contacts
WHERE appointment_date < (SELECT lookback_start FROM run_params);
UPDATE store.state_contacts SET in_window = FALSE
WHERE in_window AND appointment_date < (SELECT window_start FROM run_params);
INSERT INTO store.state_contacts BY NAME SELECT * FROM month_contacts;
