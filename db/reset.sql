-- Drops every qtopology table and procedure: ours, and every name any version
-- of the Node package ever created, so even an old database is left empty.
-- The next start of the library (or of the Node package) builds it again.

-- procedures of v19
drop procedure if exists qtopology_sp_add_topology_history;
drop procedure if exists qtopology_sp_add_worker_history;
drop procedure if exists qtopology_sp_announce_leader_candidacy;
drop procedure if exists qtopology_sp_assign_topology;
drop procedure if exists qtopology_sp_check_leader_candidacy;
drop procedure if exists qtopology_sp_clear_topology_error;
drop procedure if exists qtopology_sp_delete_topology;
drop procedure if exists qtopology_sp_delete_worker;
drop procedure if exists qtopology_sp_disable_defunct_leaders;
drop procedure if exists qtopology_sp_disable_defunct_workers;
drop procedure if exists qtopology_sp_leader_ping;
drop procedure if exists qtopology_sp_message_queue;
drop procedure if exists qtopology_sp_messages_for_worker;
drop procedure if exists qtopology_sp_refresh_statuses;
drop procedure if exists qtopology_sp_register_topology;
drop procedure if exists qtopology_sp_register_worker;
drop procedure if exists qtopology_sp_register_worker_process;
drop procedure if exists qtopology_sp_report_topology_pid;
drop procedure if exists qtopology_sp_report_topology_status;
drop procedure if exists qtopology_sp_send_message;
drop procedure if exists qtopology_sp_set_topology_enabled;
drop procedure if exists qtopology_sp_set_topology_pid;
drop procedure if exists qtopology_sp_set_topology_status;
drop procedure if exists qtopology_sp_set_worker_lstatus;
drop procedure if exists qtopology_sp_set_worker_status;
drop procedure if exists qtopology_sp_stop_topology;
drop procedure if exists qtopology_sp_storage_properties;
drop procedure if exists qtopology_sp_take_messages;
drop procedure if exists qtopology_sp_purge_messages;
drop procedure if exists qtopology_sp_topologies;
drop procedure if exists qtopology_sp_topologies_for_worker;
drop procedure if exists qtopology_sp_topology_history;
drop procedure if exists qtopology_sp_topology_info;
drop procedure if exists qtopology_sp_unassign_waiting_topologies;
drop procedure if exists qtopology_sp_worker_history;
drop procedure if exists qtopology_sp_worker_ping;
drop procedure if exists qtopology_sp_worker_statuses;
drop procedure if exists qtopology_sp_workers;

-- helpers of v20
drop function if exists qtopology_setting_int;
drop procedure if exists qtopology_sp_setting_int;
drop procedure if exists qtopology_sp_demote_other_leaders;
drop procedure if exists qtopology_sp_purge_stale_messages;
drop procedure if exists qtopology_sp_require_topology;
drop procedure if exists qtopology_sp_require_worker;
drop procedure if exists qtopology_sp_snapshot_topology;
drop procedure if exists qtopology_sp_snapshot_worker;

-- procedures of v21
drop procedure if exists qtopology_sp_apply_leader_actions;
drop procedure if exists qtopology_sp_campaign;
drop procedure if exists qtopology_sp_claim_messages;
drop procedure if exists qtopology_sp_worker_heartbeat;

-- procedures of v26 (heartbeat)
drop procedure if exists qtopology_sp_worker_heartbeat_v26;

-- procedures of v27
drop procedure if exists qtopology_sp_clear_topology_error_v27;
drop procedure if exists qtopology_sp_settings_v27;
drop procedure if exists qtopology_sp_set_setting_v27;

-- names only older Node versions (1-16) used
drop procedure if exists qtopology_sp_delete_message;
drop procedure if exists qtopology_sp_disable_topology;
drop procedure if exists qtopology_sp_enable_topology;
drop procedure if exists qtopology_sp_topology;
drop procedure if exists qtopology_sp_update_topology_status;
drop procedure if exists qtopology_sp_update_worker_status;

-- helper that exists only while v18 runs (left behind if it failed)
drop procedure if exists qtopology_tmp_alter_if_missing;

drop table if exists qtopology_message;
drop table if exists qtopology_topology_history;
drop table if exists qtopology_worker_history;
drop table if exists qtopology_topology;
drop table if exists qtopology_worker;
drop table if exists qtopology_settings;
