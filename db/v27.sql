-- Version 27. Several changes share this file, each in its own section.
-- v26 landed with its heartbeat; what came after goes here, so that a
-- database already at v26 gets it too.

-- ---------------------------------------------------------------------------
-- Section: an operator's clear, as upstream's (issue 25)
--
-- qtopology's own clear (TopologyLeader.clearTopologyError, behind its CLI
-- and dashboard) puts an enabled topology in error back on the worker it
-- failed on when that worker is alive, so that what it left there locally
-- is taken up again, and tells that worker to start it; otherwise the
-- topology is unassigned, for the leader to place. Here in one transaction
-- (upstream's takes three calls). qtopology_sp_clear_topology_error keeps
-- its meaning: always unassigned.
--
-- Result: one row, column `worker`: the worker it went back to, or NULL.
-- ---------------------------------------------------------------------------

drop procedure if exists qtopology_sp_clear_topology_error_v27;
delimiter $$
create procedure qtopology_sp_clear_topology_error_v27(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_msg_key varchar(40) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare v_back varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();
    call qtopology_sp_require_topology(p_uuid, 1, v_status, v_worker);
    if v_status <> 'error' then
        set v_msg = left(concat('topology is ', v_status, ', not in error: ', coalesce(p_uuid, 'NULL')), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;

    -- the worker read takes no lock (lock order: see assign_topology)
    select max(w.name) into v_back
    from qtopology_topology t
    join qtopology_worker w on w.name = t.worker and w.status = 'alive'
    where t.uuid = p_uuid and t.enabled = 1;

    if v_back is null then
        update qtopology_topology
        set status = 'unassigned', error = null, last_ping = v_now
        where uuid = p_uuid;
    else
        -- a new assignment, so a new epoch, as assign_topology; its start
        -- valid as long as a leader's (120 s); the key makes a retried call
        -- send nothing twice
        update qtopology_topology
        set status = 'waiting', error = null, epoch = epoch + 1, last_ping = v_now
        where uuid = p_uuid;
        insert into qtopology_message (worker, cmd, content, created, valid_until, msg_key)
        values (v_back, 'start_topology', json_object('uuid', p_uuid), v_now,
                v_now + interval 120 second, p_msg_key)
        on duplicate key update id = id;
    end if;
    call qtopology_sp_snapshot_topology(p_uuid, v_now);

    commit;
    select v_back as worker;
end $$
delimiter ;

-- (end of section: clear)


-- ---------------------------------------------------------------------------
-- Section: cluster settings as a feature (issue 29)
--
-- The timeouts were changed by hand with UPDATE qtopology_settings. These two
-- procedures read and write the settings the cluster goes by, and only those:
-- db_version, leadership_epoch and the migration lock are not settings. The
-- ranges are the library's (clusterSettingSpecs(), shown by the CLI and the
-- dashboard); here the name must be known and the value a whole number of
-- seconds, at least 0. Values stay text in the same rows, so the Node
-- package's procedures and every earlier one read them as before.
-- ---------------------------------------------------------------------------

-- One row per setting, in the library's order: name, the stored text (NULL:
-- no row) and the value the procedures go by, read as they read it
-- (qtopology_sp_setting_int's defaults; the heartbeat's write interval capped
-- as worker_heartbeat_v26 caps it; rebalance_interval_s, read by the
-- library's leader only, 3600 without a row).
drop procedure if exists qtopology_sp_settings_v27;
delimiter $$
create procedure qtopology_sp_settings_v27()
begin
    declare v_dead_s int;
    declare v_leader_s int;
    declare v_waiting_s int;
    declare v_retention_s int;

    call qtopology_sp_setting_int('worker_dead_timeout_s', v_dead_s);
    call qtopology_sp_setting_int('leader_timeout_s', v_leader_s);
    call qtopology_sp_setting_int('waiting_timeout_s', v_waiting_s);
    call qtopology_sp_setting_int('message_claim_retention_s', v_retention_s);
    select 'worker_dead_timeout_s' as name,
           (select s.value from qtopology_settings s where s.name = 'worker_dead_timeout_s') as stored,
           v_dead_s as value
    union all
    select 'leader_timeout_s',
           (select s.value from qtopology_settings s where s.name = 'leader_timeout_s'),
           v_leader_s
    union all
    select 'waiting_timeout_s',
           (select s.value from qtopology_settings s where s.name = 'waiting_timeout_s'),
           v_waiting_s
    union all
    select 'heartbeat_write_interval_s',
           (select s.value from qtopology_settings s where s.name = 'heartbeat_write_interval_s'),
           least(coalesce((select cast(s.value as unsigned) from qtopology_settings s
                           where s.name = 'heartbeat_write_interval_s'), 4294967295),
                 floor(least(v_dead_s, v_leader_s) / 2))
    union all
    select 'rebalance_interval_s',
           (select s.value from qtopology_settings s where s.name = 'rebalance_interval_s'),
           coalesce((select cast(s.value as unsigned) from qtopology_settings s
                     where s.name = 'rebalance_interval_s'), 3600)
    union all
    select 'message_claim_retention_s',
           (select s.value from qtopology_settings s where s.name = 'message_claim_retention_s'),
           v_retention_s;
end $$
delimiter ;

-- Writes one setting (its row, inserted when missing). 45400 for a name that
-- is not a setting or a value below 0 or NULL; nothing is written then.
-- Safe to repeat.
drop procedure if exists qtopology_sp_set_setting_v27;
delimiter $$
create procedure qtopology_sp_set_setting_v27(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_value bigint)
begin
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;

    if p_name is null or p_name not in ('worker_dead_timeout_s', 'leader_timeout_s',
            'waiting_timeout_s', 'heartbeat_write_interval_s', 'rebalance_interval_s',
            'message_claim_retention_s') then
        set v_msg = left(concat('unknown setting: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;
    if p_value is null or p_value < 0 then
        set v_msg = left(concat('setting ', p_name, ' must be a whole number >= 0'), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;

    insert into qtopology_settings (name, value)
    values (p_name, cast(p_value as char))
    on duplicate key update value = cast(p_value as char);
end $$
delimiter ;

-- (end of section: settings)
