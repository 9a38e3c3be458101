-- Version 25: fencing epochs. Every assignment of a topology to a worker
-- grows the topology's epoch (whoever assigns it: this library's leader,
-- assignTopology, a Node leader through qtopology_sp_assign_topology); the
-- instance started for an assignment carries its epoch, and a worker's report
-- made for an older epoch changes nothing, so a stale instance (its worker
-- paused or cut off while the topology moved) cannot flip the new instance's
-- status or pid. The Node package reads columns by name and never writes the
-- epoch: it keeps working, its reports without an epoch as before.
--
-- Only what changes is redefined, on v24's bodies and with its conventions:
-- every text parameter, variable and JSON_TABLE column names its character
-- set, no stored functions, no triggers; the helpers are v24's.

-- MySQL 8 has no ADD COLUMN IF NOT EXISTS: re-runnable through the catalogue.
set @qtopology_ddl = (
    select if(count(*) = 0,
              'alter table qtopology_topology add column epoch bigint not null default 0',
              'do 0')
    from information_schema.columns
    where table_schema = database()
        and table_name = 'qtopology_topology'
        and column_name = 'epoch');
prepare qtopology_ddl_stmt from @qtopology_ddl;
execute qtopology_ddl_stmt;
deallocate prepare qtopology_ddl_stmt;
set @qtopology_ddl = null;

drop procedure if exists qtopology_sp_assign_topology;
delimiter $$
create procedure qtopology_sp_assign_topology(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_worker varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_other varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();

    -- the worker check takes no lock: the refresh locks workers before
    -- topologies, and this must not lock them in the opposite order
    call qtopology_sp_require_worker(p_worker, 0, v_status, v_other);
    call qtopology_sp_require_topology(p_uuid, 1, v_status, v_other);

    -- 'waiting' until the worker reports it running (or waiting_timeout_s
    -- passes); a new assignment, so a new epoch, also for the same worker
    update qtopology_topology
    set worker = p_worker, status = 'waiting', epoch = epoch + 1, last_ping = v_now
    where uuid = p_uuid;
    call qtopology_sp_snapshot_topology(p_uuid, v_now);

    commit;
end $$
delimiter ;

-- A worker's status report for the assignment of p_epoch: written only when
-- the topology is still on p_worker (when given) and has not been assigned
-- again since (its epoch is not greater). One row: applied = 1 or 0.
drop procedure if exists qtopology_sp_report_topology_status;
delimiter $$
create procedure qtopology_sp_report_topology_status(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_worker varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_status varchar(10) character set utf8mb4 collate utf8mb4_bin,
    p_error text character set utf8mb4 collate utf8mb4_bin,
    p_epoch bigint)
begin
    declare v_now datetime;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare v_epoch bigint;
    declare v_applied int default 0;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    if p_status is null
        or p_status not in ('unassigned', 'waiting', 'running', 'error') then
        set v_msg = left(concat('invalid topology status: ', coalesce(p_status, 'NULL')), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;
    if p_epoch is null then
        signal sqlstate '45400' set message_text = 'epoch is NULL';
    end if;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();
    -- locks the row: an assignment cannot slip between the check and the write
    call qtopology_sp_require_topology(p_uuid, 1, v_status, v_worker);
    select epoch into v_epoch from qtopology_topology where uuid = p_uuid;

    if (p_worker is null or p_worker = v_worker) and p_epoch >= v_epoch then
        update qtopology_topology
        set status = p_status, error = left(p_error, 1000), last_ping = v_now
        where uuid = p_uuid;
        call qtopology_sp_snapshot_topology(p_uuid, v_now);
        set v_applied = 1;
    end if;

    commit;
    select v_applied as applied;
end $$
delimiter ;

-- The pid of the instance started for the assignment of p_epoch, likewise.
drop procedure if exists qtopology_sp_report_topology_pid;
delimiter $$
create procedure qtopology_sp_report_topology_pid(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_pid int,
    p_epoch bigint)
begin
    declare v_now datetime;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare v_epoch bigint;
    declare v_applied int default 0;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    if p_epoch is null then
        signal sqlstate '45400' set message_text = 'epoch is NULL';
    end if;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();
    call qtopology_sp_require_topology(p_uuid, 1, v_status, v_worker);
    select epoch into v_epoch from qtopology_topology where uuid = p_uuid;

    if p_epoch >= v_epoch then
        update qtopology_topology
        set pid = p_pid, last_ping = v_now
        where uuid = p_uuid;
        call qtopology_sp_snapshot_topology(p_uuid, v_now);
        set v_applied = 1;
    end if;

    commit;
    select v_applied as applied;
end $$
delimiter ;

-- The reads return the epoch with every topology row.
drop procedure if exists qtopology_sp_topology_info;
delimiter $$
create procedure qtopology_sp_topology_info(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;

    call qtopology_sp_require_topology(p_uuid, 0, v_status, v_worker);

    select t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.enabled,
           unix_timestamp(t.last_ping) as last_ping_unix, t.error, t.pid, t.epoch, t.config
    from qtopology_topology t
    where t.uuid = p_uuid;
end $$
delimiter ;

drop procedure if exists qtopology_sp_topologies;
delimiter $$
create procedure qtopology_sp_topologies()
begin
    select t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.enabled,
           unix_timestamp(t.last_ping) as last_ping_unix, t.error, t.pid, t.epoch
    from qtopology_topology t
    order by t.id;
end $$
delimiter ;

drop procedure if exists qtopology_sp_topologies_for_worker;
delimiter $$
create procedure qtopology_sp_topologies_for_worker(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    select t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.enabled,
           unix_timestamp(t.last_ping) as last_ping_unix, t.error, t.pid, t.epoch
    from qtopology_topology t
    where t.worker = p_name
    order by t.uuid;
end $$
delimiter ;

-- The leader loop's writes (v24's body): an assignment grows the epoch here
-- too. p_actions and the fencing as v21 describes them; a worker that came
-- back since the leader looked keeps its status, though its running
-- topologies were already unassigned when it was declared dead.
drop procedure if exists qtopology_sp_apply_leader_actions;
delimiter $$
create procedure qtopology_sp_apply_leader_actions(
    p_leader varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_actions longtext character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_leader_s int;
    declare v_is_leader int default 0;
    declare v_done int default 0;
    declare v_name varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare v_missing varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;
    -- the workers to unload that are still dead, locked in name order
    declare dead_workers cursor for
        select w.name
        from qtopology_worker w
        join json_table(p_actions, '$.unload_workers[*]'
                        columns (name varchar(100) character set utf8mb4 collate utf8mb4_bin path '$')) j
            on w.name = j.name collate utf8mb4_bin
        where w.status = 'dead'
        order by w.name
        for update;
    declare continue handler for not found set v_done = 1;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    if p_actions is null or json_valid(p_actions) = 0 then
        signal sqlstate '45400' set message_text = 'leader actions are not valid JSON';
    end if;

    set transaction isolation level read committed;
    start transaction;
    update qtopology_settings
    set value = cast(value as unsigned) + 1
    where name = 'leadership_epoch';
    set v_now = now();

    call qtopology_sp_setting_int('leader_timeout_s', v_leader_s);

    select count(*) into v_is_leader
    from qtopology_worker
    where name = p_leader
        and lstatus = 'leader'
        and status = 'alive'
        and last_ping >= v_now - interval v_leader_s second
    for update;

    if v_is_leader = 0 then
        -- fenced: not even the epoch write survives
        rollback;
    else
        -- every name must exist before anything is written
        select n.name into v_missing
        from (
            select j.name
            from json_table(p_actions, '$.unload_workers[*]'
                            columns (name varchar(100) character set utf8mb4 collate utf8mb4_bin path '$')) j
            union all
            select j.name
            from json_table(p_actions, '$.assignments[*]'
                            columns (name varchar(100) character set utf8mb4 collate utf8mb4_bin path '$.worker')) j
            union all
            select j.name
            from json_table(p_actions, '$.messages[*]'
                            columns (name varchar(100) character set utf8mb4 collate utf8mb4_bin path '$.worker')) j
        ) n
        where not exists (
            select 1 from qtopology_worker w where w.name = n.name collate utf8mb4_bin)
        limit 1;
        if v_missing is not null then
            set v_msg = left(concat('worker not found: ', v_missing), 128);
            signal sqlstate '45404' set message_text = v_msg;
        end if;

        select u.uuid into v_missing
        from (
            select j.uuid
            from json_table(p_actions, '$.unassign_topologies[*]'
                            columns (uuid varchar(100) character set utf8mb4 collate utf8mb4_bin path '$')) j
            union all
            select j.uuid
            from json_table(p_actions, '$.assignments[*]'
                            columns (uuid varchar(100) character set utf8mb4 collate utf8mb4_bin path '$.uuid')) j
        ) u
        where not exists (
            select 1 from qtopology_topology t where t.uuid = u.uuid collate utf8mb4_bin)
        limit 1;
        if v_missing is not null then
            set v_msg = left(concat('topology not found: ', v_missing), 128);
            signal sqlstate '45404' set message_text = v_msg;
        end if;

        -- 1. dead workers: their topologies not in error are unassigned (the
        --    worker column is kept, as a refresh does), then the worker is
        --    unloaded; history rows carry the new values
        set v_done = 0;
        open dead_workers;
        unload: loop
            fetch dead_workers into v_name;
            if v_done = 1 then
                leave unload;
            end if;

            insert into qtopology_topology_history
                (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
            select v_now, t.uuid, 'unassigned', t.worker, t.weight, t.worker_affinity, t.error,
                   t.enabled, t.pid
            from qtopology_topology t
            where t.worker = v_name and t.status <> 'error'
            for update;
            update qtopology_topology
            set status = 'unassigned', last_ping = v_now
            where worker = v_name and status <> 'error';

            update qtopology_worker
            set status = 'unloaded', lstatus = 'normal', last_ping = v_now
            where name = v_name;
            insert into qtopology_worker_history (ts, name, status, lstatus, pid)
            select v_now, w.name, w.status, w.lstatus, w.pid
            from qtopology_worker w
            where w.name = v_name;
        end loop;
        close dead_workers;

        -- 2. topologies marked running without a worker: back to unassigned
        update qtopology_topology t
        join json_table(p_actions, '$.unassign_topologies[*]'
                        columns (uuid varchar(100) character set utf8mb4 collate utf8mb4_bin path '$')) j
            on t.uuid = j.uuid collate utf8mb4_bin
        set t.status = 'unassigned', t.error = null, t.last_ping = v_now;

        -- 3. assignments: waiting on their worker until it reports running
        update qtopology_topology t
        join json_table(p_actions, '$.assignments[*]'
                        columns (uuid varchar(100) character set utf8mb4 collate utf8mb4_bin path '$.uuid',
                                 worker varchar(100) character set utf8mb4 collate utf8mb4_bin path '$.worker')) j
            on t.uuid = j.uuid collate utf8mb4_bin
        set t.worker = j.worker, t.status = 'waiting', t.epoch = t.epoch + 1,
            t.last_ping = v_now;

        -- history of 2 and 3, with the values just written
        insert into qtopology_topology_history
            (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
        select v_now, t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.error,
               t.enabled, t.pid
        from qtopology_topology t
        join (
            select j.uuid
            from json_table(p_actions, '$.unassign_topologies[*]'
                            columns (uuid varchar(100) character set utf8mb4 collate utf8mb4_bin path '$')) j
            union all
            select j.uuid
            from json_table(p_actions, '$.assignments[*]'
                            columns (uuid varchar(100) character set utf8mb4 collate utf8mb4_bin path '$.uuid')) j
        ) changed on t.uuid = changed.uuid collate utf8mb4_bin;

        -- 4. the messages (start_topologies, stop_topologies), whole seconds
        --    rounded up like send_message; a key already sent is a no-op
        insert into qtopology_message (worker, cmd, content, created, valid_until, msg_key)
        select j.worker, j.cmd, j.content, v_now,
               v_now + interval ceil(j.valid_ms / 1000) second, j.msg_key
        from json_table(p_actions, '$.messages[*]'
                        columns (worker varchar(100) character set utf8mb4 collate utf8mb4_bin path '$.worker',
                                 cmd varchar(100) character set utf8mb4 collate utf8mb4_bin path '$.cmd',
                                 content mediumtext character set utf8mb4 collate utf8mb4_bin path '$.content',
                                 valid_ms bigint path '$.valid_ms',
                                 msg_key varchar(40) character set utf8mb4 collate utf8mb4_bin path '$.msg_key')) j
        on duplicate key update id = id;

        commit;
    end if;

    select v_is_leader as applied;
end $$

delimiter ;
