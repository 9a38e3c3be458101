-- Version 24: every routine in its current form, for any server a user has.
-- It replaces v19 to v23: a database older than 24 runs this file instead of
-- those it has not run yet (the migrator reads the line below). Re-runnable:
-- every routine is dropped before it is created.
-- replaces: 19 20 21 22 23
--
-- * Every text parameter, variable and JSON_TABLE column names its character
--   set. Undeclared, they take the database's default (latin1 on a stock
--   MariaDB), where comparing with utf8mb4_bin fails (error 1253) and text
--   outside latin1 turns into '?'.
-- * No stored function: with binary logging on, creating one needs SUPER or
--   log_bin_trust_function_creators, which managed servers do not grant. The
--   timeout settings come from the procedure qtopology_sp_setting_int.
-- * storage_properties also reports the three timeouts, so that workers keep
--   their lease below the cluster's dead-worker timeout.

-- An index for the leader lookups (MySQL 8 has no ADD KEY IF NOT EXISTS),
-- and the rebalancing interval the whole cluster agrees on.
set @qtopology_ddl = (
    select if(count(*) = 0,
              'alter table qtopology_worker add key ix_qtopology_worker_lstatus (lstatus)',
              'do 0')
    from information_schema.statistics
    where table_schema = database()
        and table_name = 'qtopology_worker'
        and index_name = 'ix_qtopology_worker_lstatus');
prepare qtopology_ddl_stmt from @qtopology_ddl;
execute qtopology_ddl_stmt;
deallocate prepare qtopology_ddl_stmt;
set @qtopology_ddl = null;

-- How often the leader rebalances (Node's leader does it hourly).
insert ignore into qtopology_settings (name, value) values ('rebalance_interval_s', '3600');

drop function if exists qtopology_setting_int;

drop procedure if exists qtopology_sp_add_worker_history;
delimiter $$
create procedure qtopology_sp_add_worker_history(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    call qtopology_sp_snapshot_worker(p_name, now());
end $$
delimiter ;

drop procedure if exists qtopology_sp_add_topology_history;
delimiter $$
create procedure qtopology_sp_add_topology_history(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    call qtopology_sp_snapshot_topology(p_uuid, now());
end $$
delimiter ;

drop procedure if exists qtopology_sp_register_worker_process;
delimiter $$
create procedure qtopology_sp_register_worker_process(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_pid int)
begin
    declare v_now datetime;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();

    -- a (re)starting worker is alive and holds no leadership; the upsert on
    -- the unique name also settles two registrations racing for a new name
    insert into qtopology_worker (name, status, lstatus, last_ping, pid)
    values (p_name, 'alive', 'normal', v_now, p_pid)
    on duplicate key update
        status = 'alive', lstatus = 'normal', last_ping = v_now, pid = p_pid;

    insert into qtopology_worker_history (ts, name, status, lstatus, pid)
    values (v_now, p_name, 'alive', 'normal', p_pid);

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_register_worker;
delimiter $$
create procedure qtopology_sp_register_worker(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    -- the Node package's entry point; it knows no pid
    call qtopology_sp_register_worker_process(p_name, null);
end $$
delimiter ;

drop procedure if exists qtopology_sp_worker_ping;
delimiter $$
create procedure qtopology_sp_worker_ping(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;

    -- the hottest call of a cluster: one locking statement in autocommit
    update qtopology_worker
    set last_ping = now()
    where name = p_name;
    -- row_count() is also 0 for a second ping within the same second: look
    -- whether the worker exists inline, and pay for the helper's call only
    -- when it does not
    if row_count() = 0 and not exists (select 1 from qtopology_worker where name = p_name) then
        call qtopology_sp_require_worker(p_name, 0, v_status, v_lstatus);
    end if;
end $$
delimiter ;

drop procedure if exists qtopology_sp_leader_ping;
delimiter $$
create procedure qtopology_sp_leader_ping(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    -- the leader's heartbeat is a worker's heartbeat: its last_ping is what
    -- keeps it an effective leader (leader_timeout_s)
    call qtopology_sp_worker_ping(p_name);
end $$
delimiter ;

drop procedure if exists qtopology_sp_set_worker_status;
delimiter $$
create procedure qtopology_sp_set_worker_status(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_status varchar(10) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    if p_status is null
        or p_status not in ('alive', 'closing', 'dead', 'disabled', 'unloaded') then
        set v_msg = left(concat('invalid worker status: ', coalesce(p_status, 'NULL')), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();
    call qtopology_sp_require_worker(p_name, 1, v_status, v_lstatus);

    -- only an alive worker may lead or campaign
    update qtopology_worker
    set status = p_status,
        lstatus = case when p_status = 'alive' then lstatus else 'normal' end,
        last_ping = v_now
    where name = p_name;
    call qtopology_sp_snapshot_worker(p_name, v_now);

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_delete_worker;
delimiter $$
create procedure qtopology_sp_delete_worker(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    call qtopology_sp_require_worker(p_name, 1, v_status, v_lstatus);
    -- a worker that may still run topologies must be unloaded first
    if v_status <> 'unloaded' then
        set v_msg = left(concat('worker is ', v_status, ', not unloaded: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;

    delete from qtopology_worker
    where name = p_name;

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_workers;
delimiter $$
create procedure qtopology_sp_workers()
begin
    select w.name,
           w.status,
           case when w.lstatus = '' then 'normal' else w.lstatus end as lstatus,
           unix_timestamp(w.last_ping) as last_ping_unix,
           w.pid
    from qtopology_worker w
    order by w.id;
end $$
delimiter ;

drop procedure if exists qtopology_sp_worker_statuses;
delimiter $$
create procedure qtopology_sp_worker_statuses()
begin
    select s.lstatus, count(*) as cnt
    from (
        select case when w.lstatus = '' then 'normal' else w.lstatus end as lstatus
        from qtopology_worker w
    ) s
    group by s.lstatus
    order by s.lstatus;
end $$
delimiter ;

drop procedure if exists qtopology_sp_worker_history;
delimiter $$
create procedure qtopology_sp_worker_history(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    -- id breaks ties between rows written within the same second
    select h.name,
           h.status,
           case when h.lstatus = '' then 'normal' else h.lstatus end as lstatus,
           unix_timestamp(h.ts) as ts_unix,
           h.pid
    from qtopology_worker_history h
    where h.name = p_name
    order by h.ts desc, h.id desc
    limit 100;
end $$
delimiter ;

drop procedure if exists qtopology_sp_announce_leader_candidacy;
delimiter $$
create procedure qtopology_sp_announce_leader_candidacy(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_leader_s int;
    declare v_leaders int default 0;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    update qtopology_settings
    set value = cast(value as unsigned) + 1
    where name = 'leadership_epoch';
    set v_now = now();
    call qtopology_sp_setting_int('leader_timeout_s', v_leader_s);
    call qtopology_sp_require_worker(p_name, 1, v_status, v_lstatus);

    select count(*) into v_leaders
    from qtopology_worker
    where lstatus = 'leader'
        and status = 'alive'
        and last_ping >= v_now - interval v_leader_s second
    for update;

    -- campaign only while the seat is empty; a leader stays leader
    if v_status = 'alive' and v_leaders = 0 and v_lstatus <> 'leader' then
        update qtopology_worker
        set lstatus = 'candidate', last_ping = v_now
        where name = p_name;
        if v_lstatus <> 'candidate' then
            call qtopology_sp_snapshot_worker(p_name, v_now);
        end if;
    end if;

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_check_leader_candidacy;
delimiter $$
create procedure qtopology_sp_check_leader_candidacy(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_leader_s int;
    declare v_other_leaders int default 0;
    declare v_greater_candidates int default 0;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_result varchar(10) character set utf8mb4 collate utf8mb4_bin default '';
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    update qtopology_settings
    set value = cast(value as unsigned) + 1
    where name = 'leadership_epoch';
    set v_now = now();
    call qtopology_sp_setting_int('leader_timeout_s', v_leader_s);
    call qtopology_sp_require_worker(p_name, 1, v_status, v_lstatus);

    select count(*) into v_other_leaders
    from qtopology_worker
    where name <> p_name
        and lstatus = 'leader'
        and status = 'alive'
        and last_ping >= v_now - interval v_leader_s second
    for update;

    -- upstream's tie-break: among fresh candidates the greatest name wins
    select count(*) into v_greater_candidates
    from qtopology_worker
    where name > p_name
        and lstatus = 'candidate'
        and status = 'alive'
        and last_ping >= v_now - interval v_leader_s second
    for update;

    if v_other_leaders > 0 or v_status <> 'alive'
        or (v_lstatus = 'candidate' and v_greater_candidates > 0) then
        -- lost (or not eligible): step back, unless already normal
        if v_lstatus in ('leader', 'candidate') then
            update qtopology_worker
            set lstatus = 'normal'
            where name = p_name;
            call qtopology_sp_snapshot_worker(p_name, v_now);
        end if;
    elseif v_lstatus = 'leader' then
        -- the sitting leader keeps its seat
        update qtopology_worker
        set last_ping = v_now
        where name = p_name;
        set v_result = 'leader';
    elseif v_lstatus = 'candidate' then
        call qtopology_sp_demote_other_leaders(p_name, v_now);
        update qtopology_worker
        set lstatus = 'leader', last_ping = v_now
        where name = p_name;
        call qtopology_sp_snapshot_worker(p_name, v_now);
        set v_result = 'leader';
    end if;

    commit;

    select v_result as status;
end $$
delimiter ;

drop procedure if exists qtopology_sp_set_worker_lstatus;
delimiter $$
create procedure qtopology_sp_set_worker_lstatus(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_leader_s int;
    declare v_other_leaders int default 0;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_old_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    -- '' is the Node package's spelling of normal
    set v_lstatus = case when p_lstatus = '' then 'normal' else p_lstatus end;
    if v_lstatus is null or v_lstatus not in ('leader', 'candidate', 'normal') then
        set v_msg = left(concat('invalid leadership status: ', coalesce(p_lstatus, 'NULL')), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;

    set transaction isolation level read committed;
    start transaction;
    update qtopology_settings
    set value = cast(value as unsigned) + 1
    where name = 'leadership_epoch';
    set v_now = now();
    call qtopology_sp_setting_int('leader_timeout_s', v_leader_s);
    call qtopology_sp_require_worker(p_name, 1, v_status, v_old_lstatus);

    if v_lstatus <> 'normal' and v_status <> 'alive' then
        set v_msg = left(concat('worker is ', v_status, ', cannot be ', v_lstatus, ': ',
                                coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;

    if v_lstatus = 'leader' then
        select count(*) into v_other_leaders
        from qtopology_worker
        where name <> p_name
            and lstatus = 'leader'
            and status = 'alive'
            and last_ping >= v_now - interval v_leader_s second
        for update;
        if v_other_leaders > 0 then
            set v_msg = left(concat('another worker is leader, cannot promote: ',
                                    coalesce(p_name, 'NULL')), 128);
            signal sqlstate '45400' set message_text = v_msg;
        end if;
        call qtopology_sp_demote_other_leaders(p_name, v_now);
    end if;

    update qtopology_worker
    set lstatus = v_lstatus, last_ping = v_now
    where name = p_name;
    call qtopology_sp_snapshot_worker(p_name, v_now);

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_disable_defunct_workers;
delimiter $$
create procedure qtopology_sp_disable_defunct_workers()
begin
    declare v_now datetime;
    declare v_limit datetime;
    declare v_seconds int;

    set v_now = now();
    call qtopology_sp_setting_int('worker_dead_timeout_s', v_seconds);
    set v_limit = v_now - interval v_seconds second;

    -- a closing worker that goes silent is as dead as an alive one: otherwise
    -- its topologies would never be taken away
    insert into qtopology_worker_history (ts, name, status, lstatus, pid)
    select v_now, w.name, 'dead', 'normal', w.pid
    from qtopology_worker w
    where w.status in ('alive', 'closing') and w.last_ping < v_limit
    for update;

    update qtopology_worker
    set status = 'dead', lstatus = 'normal'
    where status in ('alive', 'closing') and last_ping < v_limit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_disable_defunct_leaders;
delimiter $$
create procedure qtopology_sp_disable_defunct_leaders()
begin
    declare v_now datetime;
    declare v_limit datetime;
    declare v_seconds int;

    set v_now = now();
    call qtopology_sp_setting_int('leader_timeout_s', v_seconds);
    set v_limit = v_now - interval v_seconds second;

    insert into qtopology_worker_history (ts, name, status, lstatus, pid)
    select v_now, w.name, w.status, 'normal', w.pid
    from qtopology_worker w
    where w.lstatus in ('leader', 'candidate')
        and (w.status <> 'alive' or w.last_ping < v_limit)
    for update;

    update qtopology_worker
    set lstatus = 'normal'
    where lstatus in ('leader', 'candidate')
        and (status <> 'alive' or last_ping < v_limit);
end $$
delimiter ;

drop procedure if exists qtopology_sp_unassign_waiting_topologies;
delimiter $$
create procedure qtopology_sp_unassign_waiting_topologies()
begin
    declare v_now datetime;
    declare v_limit datetime;
    declare v_seconds int;

    set v_now = now();
    call qtopology_sp_setting_int('waiting_timeout_s', v_seconds);
    set v_limit = v_now - interval v_seconds second;

    -- a topology that was never confirmed, or whose worker died, goes back to
    -- the pool; the worker column is kept, as the Node package does
    insert into qtopology_topology_history
        (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
    select v_now, t.uuid, 'unassigned', t.worker, t.weight, t.worker_affinity, t.error, t.enabled, t.pid
    from qtopology_topology t
    where (t.status = 'waiting' and t.last_ping < v_limit)
        or (t.status = 'running' and exists (
                select 1 from qtopology_worker w
                where w.name = t.worker and w.status = 'dead'))
    for update;

    update qtopology_topology t
    set t.status = 'unassigned'
    where (t.status = 'waiting' and t.last_ping < v_limit)
        or (t.status = 'running' and exists (
                select 1 from qtopology_worker w
                where w.name = t.worker and w.status = 'dead'));
end $$
delimiter ;

-- Readers purge their own queue; this catches the queues of workers that
-- never read again (dead, deleted), so the table cannot grow without bound.
drop procedure if exists qtopology_sp_purge_messages;
delimiter $$
create procedure qtopology_sp_purge_messages()
begin
    call qtopology_sp_purge_stale_messages(null);
end $$
delimiter ;

drop procedure if exists qtopology_sp_refresh_statuses;
delimiter $$
create procedure qtopology_sp_refresh_statuses()
begin
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    -- under the epoch lock: demoting leaders must not interleave with an election
    set transaction isolation level read committed;
    start transaction;
    update qtopology_settings
    set value = cast(value as unsigned) + 1
    where name = 'leadership_epoch';

    -- order matters: workers found dead lose leadership and topologies in
    -- this same pass
    call qtopology_sp_disable_defunct_workers();
    call qtopology_sp_disable_defunct_leaders();
    call qtopology_sp_unassign_waiting_topologies();
    call qtopology_sp_purge_messages();

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_register_topology;
delimiter $$
create procedure qtopology_sp_register_topology(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_config mediumtext character set utf8mb4 collate utf8mb4_bin,
    p_weight float,
    p_worker_affinity varchar(200) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();

    -- new topologies start unassigned and disabled; re-registration changes
    -- the definition only, never the run state
    insert into qtopology_topology
        (uuid, config, status, worker, weight, worker_affinity, last_ping, error, enabled, pid)
    values
        (p_uuid, p_config, 'unassigned', null, p_weight, p_worker_affinity, v_now, null, 0, null)
    on duplicate key update
        config = p_config, weight = p_weight, worker_affinity = p_worker_affinity;
    call qtopology_sp_snapshot_topology(p_uuid, v_now);

    commit;
end $$
delimiter ;

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

    -- 'waiting' until the worker reports it running (or waiting_timeout_s passes)
    update qtopology_topology
    set worker = p_worker, status = 'waiting', last_ping = v_now
    where uuid = p_uuid;
    call qtopology_sp_snapshot_topology(p_uuid, v_now);

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_set_topology_status;
delimiter $$
create procedure qtopology_sp_set_topology_status(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_worker varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_status varchar(10) character set utf8mb4 collate utf8mb4_bin,
    p_error text character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;
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

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();
    call qtopology_sp_require_topology(p_uuid, 1, v_status, v_worker);

    -- a worker reporting on a topology the leader has since given to someone
    -- else must not overwrite the new owner's state
    if p_worker is null or p_worker = v_worker then
        -- error text longer than the column is cut, not refused: it is a
        -- diagnostic, and losing the status change would be worse
        update qtopology_topology
        set status = p_status, error = left(p_error, 1000), last_ping = v_now
        where uuid = p_uuid;
        call qtopology_sp_snapshot_topology(p_uuid, v_now);
    end if;

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_set_topology_pid;
delimiter $$
create procedure qtopology_sp_set_topology_pid(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_pid int)
begin
    declare v_now datetime;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();
    call qtopology_sp_require_topology(p_uuid, 1, v_status, v_worker);

    update qtopology_topology
    set pid = p_pid, last_ping = v_now
    where uuid = p_uuid;
    call qtopology_sp_snapshot_topology(p_uuid, v_now);

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_set_topology_enabled;
delimiter $$
create procedure qtopology_sp_set_topology_enabled(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_enabled tinyint)
begin
    declare v_now datetime;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();
    call qtopology_sp_require_topology(p_uuid, 1, v_status, v_worker);

    -- stored as 0/1, whatever truthy value the caller passed
    update qtopology_topology
    set enabled = case when coalesce(p_enabled, 0) <> 0 then 1 else 0 end
    where uuid = p_uuid;
    call qtopology_sp_snapshot_topology(p_uuid, v_now);

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_stop_topology;
delimiter $$
create procedure qtopology_sp_stop_topology(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_cmd varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_msg_key varchar(40) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    if p_cmd is null or p_cmd not in ('stop_topology', 'kill_topology') then
        set v_msg = left(concat('invalid stop command: ', coalesce(p_cmd, 'NULL')), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();
    call qtopology_sp_require_topology(p_uuid, 1, v_status, v_worker);

    -- disabled first, so the leader does not hand it out again
    update qtopology_topology
    set enabled = 0
    where uuid = p_uuid;
    call qtopology_sp_snapshot_topology(p_uuid, v_now);

    -- the worker running it is told in the same transaction (valid 30 s); the
    -- key makes a retried call send nothing twice
    if v_worker is not null then
        insert into qtopology_message (worker, cmd, content, created, valid_until, msg_key)
        values (v_worker, p_cmd, json_object('uuid', p_uuid), v_now,
                v_now + interval 30 second, p_msg_key)
        on duplicate key update id = id;
    end if;

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_clear_topology_error;
delimiter $$
create procedure qtopology_sp_clear_topology_error(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;
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

    update qtopology_topology
    set status = 'unassigned', error = null, last_ping = v_now
    where uuid = p_uuid;
    call qtopology_sp_snapshot_topology(p_uuid, v_now);

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_delete_topology;
delimiter $$
create procedure qtopology_sp_delete_topology(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    call qtopology_sp_require_topology(p_uuid, 1, v_status, v_worker);

    delete from qtopology_topology
    where uuid = p_uuid;

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_topologies;
delimiter $$
create procedure qtopology_sp_topologies()
begin
    select t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.enabled,
           unix_timestamp(t.last_ping) as last_ping_unix, t.error, t.pid
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
           unix_timestamp(t.last_ping) as last_ping_unix, t.error, t.pid
    from qtopology_topology t
    where t.worker = p_name
    order by t.uuid;
end $$
delimiter ;

drop procedure if exists qtopology_sp_topology_info;
delimiter $$
create procedure qtopology_sp_topology_info(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;

    call qtopology_sp_require_topology(p_uuid, 0, v_status, v_worker);

    select t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.enabled,
           unix_timestamp(t.last_ping) as last_ping_unix, t.error, t.pid, t.config
    from qtopology_topology t
    where t.uuid = p_uuid;
end $$
delimiter ;

drop procedure if exists qtopology_sp_topology_history;
delimiter $$
create procedure qtopology_sp_topology_history(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    -- id breaks ties between rows written within the same second
    select h.uuid, h.status, h.worker, h.weight, h.worker_affinity, h.enabled,
           unix_timestamp(h.ts) as ts_unix, h.error, h.pid
    from qtopology_topology_history h
    where h.uuid = p_uuid
    order by h.ts desc, h.id desc
    limit 100;
end $$
delimiter ;

drop procedure if exists qtopology_sp_send_message;
delimiter $$
create procedure qtopology_sp_send_message(
    p_worker varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_cmd varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_content mediumtext character set utf8mb4 collate utf8mb4_bin,
    p_valid_ms bigint,
    p_msg_key varchar(40) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    if p_valid_ms is null or p_valid_ms <= 0 then
        set v_msg = left(concat('message validity must be positive, got ',
                                coalesce(p_valid_ms, 'NULL'), ' ms for worker ',
                                coalesce(p_worker, 'NULL')), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();
    call qtopology_sp_require_worker(p_worker, 0, v_status, v_lstatus);

    -- whole seconds (the column has no fractions), rounded up so a message is
    -- never valid for less than asked; a key already sent makes this a no-op
    insert into qtopology_message (worker, cmd, content, created, valid_until, msg_key)
    values (p_worker, p_cmd, p_content, v_now,
            v_now + interval ceil(p_valid_ms / 1000) second, p_msg_key)
    on duplicate key update id = id;

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_take_messages;
delimiter $$
create procedure qtopology_sp_take_messages(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_claim_key varchar(40) character set utf8mb4 collate utf8mb4_bin,
    p_limit int)
begin
    call qtopology_sp_claim_messages(p_name, p_claim_key, p_limit);

    -- committed claims of this key: what this call, or the lost attempt it
    -- retries, took
    select m.id, m.cmd, m.content, m.created, unix_timestamp(m.created) as created_unix
    from qtopology_message m
    where m.worker = p_name and m.claimed_by = p_claim_key
    order by m.id;
end $$
delimiter ;

drop procedure if exists qtopology_sp_messages_for_worker;
delimiter $$
create procedure qtopology_sp_messages_for_worker(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    -- The Node package's read: it deletes by id the rows it consumed. Its
    -- getMessage (what qtopology 2.3 polls with) consumes only the first row,
    -- so rows are returned without claiming them, or the rest would be lost.
    set transaction isolation level read committed;
    start transaction;
    set v_now = now();

    -- no unknown-worker check: the Node package never expected one
    update qtopology_worker
    set last_ping = v_now
    where name = p_name;
    call qtopology_sp_purge_stale_messages(p_name);

    select m.id, m.cmd, m.content, m.created, unix_timestamp(m.created) as created_unix
    from qtopology_message m
    where m.worker = p_name and m.claimed_by is null and m.valid_until >= v_now
    order by m.id;

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_message_queue;
delimiter $$
create procedure qtopology_sp_message_queue()
begin
    -- what is still waiting to be read: claimed rows are delivered already
    select m.worker, m.cmd, m.content,
           unix_timestamp(m.created) as created_unix,
           unix_timestamp(m.valid_until) as valid_until_unix
    from qtopology_message m
    where m.claimed_by is null and m.valid_until >= now()
    order by m.id;
end $$
delimiter ;

drop procedure if exists qtopology_sp_storage_properties;
delimiter $$
create procedure qtopology_sp_storage_properties()
begin
    declare v_dead_s int;
    declare v_leader_s int;
    declare v_waiting_s int;

    call qtopology_sp_setting_int('worker_dead_timeout_s', v_dead_s);
    call qtopology_sp_setting_int('leader_timeout_s', v_leader_s);
    call qtopology_sp_setting_int('waiting_timeout_s', v_waiting_s);
    select (select s.value from qtopology_settings s where s.name = 'db_version') as db_version,
           version() as server_version,
           (select s.value from qtopology_settings s
            where s.name = 'rebalance_interval_s') as rebalance_interval_s,
           v_dead_s as worker_dead_timeout_s, v_leader_s as leader_timeout_s,
           v_waiting_s as waiting_timeout_s;
end $$
delimiter ;

drop procedure if exists qtopology_sp_setting_int;
delimiter $$
create procedure qtopology_sp_setting_int(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    out p_value int)
begin
    declare v_default int;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;

    -- the one place the defaults live (db/README.md lists them)
    set v_default = case p_name
        when 'worker_dead_timeout_s' then 30
        when 'leader_timeout_s' then 10
        when 'waiting_timeout_s' then 30
        when 'message_claim_retention_s' then 120
    end;
    if v_default is null then
        set v_msg = left(concat('unknown integer setting: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;

    select coalesce(max(cast(value as unsigned)), v_default) into p_value
    from qtopology_settings
    where name = p_name;
end $$
delimiter ;

drop procedure if exists qtopology_sp_require_worker;
delimiter $$
create procedure qtopology_sp_require_worker(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_lock tinyint,
    out p_status varchar(10) character set utf8mb4 collate utf8mb4_bin,
    out p_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_found int default 0;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;

    -- p_lock = 0 for callers that must not lock workers (lock order, see
    -- assign_topology) or that only check existence
    if p_lock then
        select count(*), max(status), max(lstatus) into v_found, p_status, p_lstatus
        from qtopology_worker
        where name = p_name
        for update;
    else
        select count(*), max(status), max(lstatus) into v_found, p_status, p_lstatus
        from qtopology_worker
        where name = p_name;
    end if;
    if v_found = 0 then
        set v_msg = left(concat('worker not found: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;
end $$
delimiter ;

drop procedure if exists qtopology_sp_require_topology;
delimiter $$
create procedure qtopology_sp_require_topology(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_lock tinyint,
    out p_status varchar(10) character set utf8mb4 collate utf8mb4_bin,
    out p_worker varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_found int default 0;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;

    if p_lock then
        select count(*), max(status), max(worker) into v_found, p_status, p_worker
        from qtopology_topology
        where uuid = p_uuid
        for update;
    else
        select count(*), max(status), max(worker) into v_found, p_status, p_worker
        from qtopology_topology
        where uuid = p_uuid;
    end if;
    if v_found = 0 then
        set v_msg = left(concat('topology not found: ', coalesce(p_uuid, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;
end $$
delimiter ;

drop procedure if exists qtopology_sp_snapshot_worker;
delimiter $$
create procedure qtopology_sp_snapshot_worker(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_ts datetime)
begin
    insert into qtopology_worker_history (ts, name, status, lstatus, pid)
    select p_ts, w.name, w.status, w.lstatus, w.pid
    from qtopology_worker w
    where w.name = p_name;
end $$
delimiter ;

drop procedure if exists qtopology_sp_snapshot_topology;
delimiter $$
create procedure qtopology_sp_snapshot_topology(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_ts datetime)
begin
    insert into qtopology_topology_history
        (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
    select p_ts, t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.error, t.enabled, t.pid
    from qtopology_topology t
    where t.uuid = p_uuid;
end $$
delimiter ;

drop procedure if exists qtopology_sp_demote_other_leaders;
delimiter $$
create procedure qtopology_sp_demote_other_leaders(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_ts datetime)
begin
    -- keeps "at most one row marked leader": stale leaders and candidates
    -- included; history rows carry the new values, then the same locked rows
    -- are updated
    insert into qtopology_worker_history (ts, name, status, lstatus, pid)
    select p_ts, w.name, w.status, 'normal', w.pid
    from qtopology_worker w
    where w.name <> p_name and w.lstatus in ('leader', 'candidate')
    for update;
    update qtopology_worker
    set lstatus = 'normal'
    where name <> p_name and lstatus in ('leader', 'candidate');
end $$
delimiter ;

drop procedure if exists qtopology_sp_purge_stale_messages;
delimiter $$
create procedure qtopology_sp_purge_stale_messages(
    p_worker varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_claims_until datetime;
    declare v_seconds int;

    -- p_worker NULL: the queues of every worker
    set v_now = now();
    call qtopology_sp_setting_int('message_claim_retention_s', v_seconds);
    set v_claims_until = v_now - interval v_seconds second;

    delete from qtopology_message
    where (p_worker is null or worker = p_worker)
        and ((claimed_by is null and valid_until < v_now)
             or (claimed_by is not null and claimed_at < v_claims_until));
end $$
delimiter ;

-- Claims a worker's messages for p_claim_key (up to p_limit, 0 = all) and
-- returns nothing: the callers select the claimed rows. A poll that finds no
-- message for it (unclaimed, or already claimed by this key) does two
-- non-locking index reads and leaves: no transaction, no lock, no commit. That
-- check is safe for once-only delivery: a row a concurrent attempt is still
-- claiming reads as unclaimed until that attempt commits, so it sends us down
-- the locking path, which waits for it. Expired rows count as "something"
-- here, so the decision never depends on the clock; refresh_statuses purges
-- them.
drop procedure if exists qtopology_sp_claim_messages;
delimiter $$
create procedure qtopology_sp_claim_messages(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_claim_key varchar(40) character set utf8mb4 collate utf8mb4_bin,
    p_limit int)
claim: begin
    declare v_now datetime;
    declare v_claimed int default 0;
    declare v_pending int default 0;
    declare v_limit bigint;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    if p_claim_key is null or p_claim_key = '' then
        set v_msg = left(concat('a claim key is required to read messages of worker ',
                                coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;

    -- SELECT ... INTO, not IF EXISTS (...): MariaDB runs a subquery of IF or
    -- SET as a locking read, which would wait for a transaction holding the row.
    select count(*) into v_pending
    from qtopology_message
    where worker = p_name and (claimed_by is null or claimed_by = p_claim_key);
    if v_pending = 0 then
        call qtopology_sp_require_worker(p_name, 0, v_status, v_lstatus);
        leave claim;
    end if;

    -- 0 (or less) means every queued message
    set v_limit = case when coalesce(p_limit, 0) > 0 then p_limit else 4294967295 end;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();

    -- Readers of one queue take turns on the worker's row. A call retried
    -- while its first attempt is still finishing on the server thus waits
    -- for it, and then sees what it claimed.
    call qtopology_sp_require_worker(p_name, 1, v_status, v_lstatus);

    select count(*) into v_claimed
    from qtopology_message
    where worker = p_name and claimed_by = p_claim_key;

    if v_claimed = 0 then
        update qtopology_message
        set claimed_by = p_claim_key, claimed_at = v_now
        where worker = p_name and claimed_by is null and valid_until >= v_now
        order by id
        limit v_limit;
    end if;

    commit;
end $$
delimiter ;

-- One tick of a worker: ping (status untouched: a disabled or dead worker
-- stays so, and learns it from the result), take its messages, and report the
-- leader. Every read goes through a unique key or an index on a constant.
--
-- Result: one row per taken message (id order), each carrying the worker's
-- own state; one row with NULL message columns when nothing was taken.
drop procedure if exists qtopology_sp_worker_heartbeat;
delimiter $$
create procedure qtopology_sp_worker_heartbeat(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_claim_key varchar(40) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_found int default 0;
    declare v_pending int default 0;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    -- the leader's name, prefixed with 1 when it is live and 0 when not
    declare v_leader varchar(101) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;

    set v_now = now();

    -- the ping: one locking statement in autocommit, as worker_ping
    update qtopology_worker
    set last_ping = v_now
    where name = p_name;

    -- Everything else in one non-locking read: on this path each further
    -- statement or subquery costs about as much as the ping. The joins yield
    -- one row per (leader row x pending message), usually one. No derived
    -- table: MariaDB 10.11 crashed (signal 11, freeing a derived table's
    -- temporary table) under concurrent heartbeats that joined one. Should
    -- several rows be marked leader (a peer's doing), a live one is reported.
    -- The setting's row is read inline, with qtopology_sp_setting_int's
    -- default for a missing row: a CALL here would cost a statement.
    select count(*), max(w.status), max(w.lstatus),
           max(concat(c.status = 'alive'
                          and c.last_ping >= v_now - interval coalesce(
                              cast(s.value as unsigned), 10) second,
                      c.name)),
           max(m.id is not null)
    into v_found, v_status, v_lstatus, v_leader, v_pending
    from qtopology_worker w
    left join qtopology_settings s on s.name = 'leader_timeout_s'
    left join qtopology_worker c on c.lstatus = 'leader'
    left join qtopology_message m
        on m.worker = w.name and (m.claimed_by is null or m.claimed_by = p_claim_key)
    where w.name = p_name;

    if v_found = 0 then
        set v_msg = left(concat('worker not found: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

    if v_pending then
        call qtopology_sp_claim_messages(p_name, p_claim_key, 0);
        select count(*) into v_pending
        from qtopology_message
        where worker = p_name and claimed_by = p_claim_key;
    end if;

    if v_pending then
        select v_status as status,
               case when v_lstatus = '' then 'normal' else v_lstatus end as lstatus,
               substring(v_leader, 2) as leader, coalesce(left(v_leader, 1) = '1', 0) as leader_alive,
               unix_timestamp(v_now) as now_unix,
               m.id, m.cmd, m.content, unix_timestamp(m.created) as created_unix
        from qtopology_message m
        where m.worker = p_name and m.claimed_by = p_claim_key
        order by m.id;
    else
        select v_status as status,
               case when v_lstatus = '' then 'normal' else v_lstatus end as lstatus,
               substring(v_leader, 2) as leader, coalesce(left(v_leader, 1) = '1', 0) as leader_alive,
               unix_timestamp(v_now) as now_unix,
               null as id, null as cmd, null as content, null as created_unix;
    end if;
end $$
delimiter ;

-- announce + check in one round trip. They run as the same two transactions
-- the separate calls run, so the guarantees are theirs: each writes the
-- leadership_epoch row first, and at most one worker is ever leader.
drop procedure if exists qtopology_sp_campaign;
delimiter $$
create procedure qtopology_sp_campaign(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    call qtopology_sp_announce_leader_candidacy(p_name);
    call qtopology_sp_check_leader_candidacy(p_name);
end $$
delimiter ;

-- The writes of one leader loop, fenced: in one transaction that first writes
-- the leadership_epoch row (so no election interleaves, also on Galera), the
-- caller must still be an effective leader; only then is every action
-- applied. Otherwise nothing is written and applied = 0.
--
-- p_actions (built by the library, validated before sending):
--   {"unload_workers": [name, ...],
--    "unassign_topologies": [uuid, ...],
--    "assignments": [{"uuid", "worker"}, ...],
--    "messages": [{"worker", "cmd", "content" (JSON text), "valid_ms", "msg_key"}, ...]}
-- A worker or topology that does not exist raises 45404 and nothing is
-- written. Unloading applies only to workers still dead: one that came back
-- since the leader looked keeps its status and topologies. Message keys make
-- a retried call send nothing twice.
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
        set t.worker = j.worker, t.status = 'waiting', t.last_ping = v_now;

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
