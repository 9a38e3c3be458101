-- Deletes every row of the five data tables. The schema and qtopology_settings
-- (schema version, leadership epoch, timeouts) stay as they are, so the
-- database needs no migration afterwards. Delete rather than truncate: it is
-- not DDL, so it can run inside a transaction and needs no extra privilege.

delete from qtopology_message;
delete from qtopology_topology;
delete from qtopology_worker;
delete from qtopology_topology_history;
delete from qtopology_worker_history;
