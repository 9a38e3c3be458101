-- Version 19: one stored procedure per API call (see db/README.md for the
-- contract the C++ code relies on), plus the procedures the Node package calls
-- and the six that Node version 17 dropped. Re-runnable: each procedure is
-- dropped before it is created.
--
-- Conventions used throughout:
-- * text parameters and variables are utf8mb4_bin like the columns (v18), so
--   no comparison ever mixes collations;
-- * v_now is read once, so every row a call writes carries the same time, and
--   that time is the server's;
-- * a procedure that changes data is one transaction whose handler rolls back
--   and re-raises; the refresh helpers and add_*_history run inside their
--   caller's transaction and start none;
-- * 45404 = unknown worker/topology, 45400 = not allowed in the current state;
-- * lstatus is written 'normal'; '' (written by the Node package) reads as normal;
-- * history rows are inserted in the same transaction as the change;
-- * transactions run at READ COMMITTED: a scan then keeps locks only on the
--   rows it changes, not on every row (and gap) it passes, which under
--   REPEATABLE READ made refreshes and elections deadlock with heartbeats.
--   Correctness does not rest on snapshots: elections serialise on the
--   leadership_epoch row, message claims on the rows they update.

-- ---------------------------------------------------------------------------
-- History snapshots (Node-compatible; also used by the Node package after its
-- own plain updates). No transaction: they join the caller's.
-- ---------------------------------------------------------------------------

drop procedure if exists qtopology_sp_add_worker_history;
delimiter $$
create procedure qtopology_sp_add_worker_history(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    insert into qtopology_worker_history (ts, name, status, lstatus, pid)
    select now(), w.name, w.status, w.lstatus, w.pid
    from qtopology_worker w
    where w.name = p_name;
end $$
delimiter ;

drop procedure if exists qtopology_sp_add_topology_history;
delimiter $$
create procedure qtopology_sp_add_topology_history(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    insert into qtopology_topology_history
        (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
    select now(), t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.error, t.enabled, t.pid
    from qtopology_topology t
    where t.uuid = p_uuid;
end $$
delimiter ;

-- ---------------------------------------------------------------------------
-- Workers
-- ---------------------------------------------------------------------------

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
    declare v_msg varchar(128);

    -- a worker's heartbeat
    -- One locking statement and no explicit transaction: the hottest call
    -- of a cluster holds one row lock for one statement.
    update qtopology_worker
    set last_ping = now()
    where name = p_name;
    -- row_count() is also 0 for a second ping within the same second, so
    -- only then look whether the worker exists at all
    if row_count() = 0 and not exists (select 1 from qtopology_worker where name = p_name) then
        set v_msg = left(concat('worker not found: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
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
    declare v_found int default 0;
    declare v_msg varchar(128);
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

    select count(*) into v_found
    from qtopology_worker
    where name = p_name
    for update;
    if v_found = 0 then
        set v_msg = left(concat('worker not found: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

    -- only an alive worker may lead or campaign
    update qtopology_worker
    set status = p_status,
        lstatus = case when p_status = 'alive' then lstatus else 'normal' end,
        last_ping = v_now
    where name = p_name;

    insert into qtopology_worker_history (ts, name, status, lstatus, pid)
    select v_now, w.name, w.status, w.lstatus, w.pid
    from qtopology_worker w
    where w.name = p_name;

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_delete_worker;
delimiter $$
create procedure qtopology_sp_delete_worker(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_found int default 0;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128);
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;

    select count(*), max(status) into v_found, v_status
    from qtopology_worker
    where name = p_name
    for update;
    if v_found = 0 then
        set v_msg = left(concat('worker not found: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;
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
    order by w.name;
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

-- ---------------------------------------------------------------------------
-- Leadership. Every procedure that may change who leads first writes the
-- leadership_epoch row: on one server that serialises them like a lock, and
-- on Galera (which certifies written rows only) two elections on different
-- nodes conflict and the loser gets error 1213 and is retried. Worker rows are
-- then read with "for update" so the latest status and last_ping are seen.
-- ---------------------------------------------------------------------------

drop procedure if exists qtopology_sp_announce_leader_candidacy;
delimiter $$
create procedure qtopology_sp_announce_leader_candidacy(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_leader_s int;
    declare v_found int default 0;
    declare v_leaders int default 0;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128);
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

    select coalesce(max(cast(value as unsigned)), 10) into v_leader_s
    from qtopology_settings
    where name = 'leader_timeout_s';

    select count(*), max(status), max(lstatus) into v_found, v_status, v_lstatus
    from qtopology_worker
    where name = p_name
    for update;
    if v_found = 0 then
        set v_msg = left(concat('worker not found: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

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
            insert into qtopology_worker_history (ts, name, status, lstatus, pid)
            select v_now, w.name, w.status, w.lstatus, w.pid
            from qtopology_worker w
            where w.name = p_name;
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
    declare v_found int default 0;
    declare v_other_leaders int default 0;
    declare v_greater_candidates int default 0;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_result varchar(10) character set utf8mb4 collate utf8mb4_bin default '';
    declare v_msg varchar(128);
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

    select coalesce(max(cast(value as unsigned)), 10) into v_leader_s
    from qtopology_settings
    where name = 'leader_timeout_s';

    select count(*), max(status), max(lstatus) into v_found, v_status, v_lstatus
    from qtopology_worker
    where name = p_name
    for update;
    if v_found = 0 then
        set v_msg = left(concat('worker not found: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

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
            insert into qtopology_worker_history (ts, name, status, lstatus, pid)
            select v_now, w.name, w.status, w.lstatus, w.pid
            from qtopology_worker w
            where w.name = p_name;
        end if;
    elseif v_lstatus = 'leader' then
        -- the sitting leader keeps its seat
        update qtopology_worker
        set last_ping = v_now
        where name = p_name;
        set v_result = 'leader';
    elseif v_lstatus = 'candidate' then
        -- won: every other leader or candidate (stale ones included) steps back,
        -- so at most one row is ever marked leader
        insert into qtopology_worker_history (ts, name, status, lstatus, pid)
        select v_now, w.name, w.status, 'normal', w.pid
        from qtopology_worker w
        where w.name <> p_name and w.lstatus in ('leader', 'candidate')
        for update;
        update qtopology_worker
        set lstatus = 'normal'
        where name <> p_name and lstatus in ('leader', 'candidate');

        update qtopology_worker
        set lstatus = 'leader', last_ping = v_now
        where name = p_name;
        insert into qtopology_worker_history (ts, name, status, lstatus, pid)
        select v_now, w.name, w.status, w.lstatus, w.pid
        from qtopology_worker w
        where w.name = p_name;
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
    declare v_found int default 0;
    declare v_other_leaders int default 0;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128);
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

    select coalesce(max(cast(value as unsigned)), 10) into v_leader_s
    from qtopology_settings
    where name = 'leader_timeout_s';

    select count(*), max(status) into v_found, v_status
    from qtopology_worker
    where name = p_name
    for update;
    if v_found = 0 then
        set v_msg = left(concat('worker not found: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

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

        -- keep "at most one row marked leader": stale leaders and candidates step back
        insert into qtopology_worker_history (ts, name, status, lstatus, pid)
        select v_now, w.name, w.status, 'normal', w.pid
        from qtopology_worker w
        where w.name <> p_name and w.lstatus in ('leader', 'candidate')
        for update;
        update qtopology_worker
        set lstatus = 'normal'
        where name <> p_name and lstatus in ('leader', 'candidate');
    end if;

    update qtopology_worker
    set lstatus = v_lstatus, last_ping = v_now
    where name = p_name;

    insert into qtopology_worker_history (ts, name, status, lstatus, pid)
    select v_now, w.name, w.status, w.lstatus, w.pid
    from qtopology_worker w
    where w.name = p_name;

    commit;
end $$
delimiter ;

-- ---------------------------------------------------------------------------
-- Periodic refresh (the leader's housekeeping). The three helpers run inside
-- refresh_statuses' transaction; each writes the history rows with the new
-- values first, then updates the very rows it has just locked.
-- ---------------------------------------------------------------------------

drop procedure if exists qtopology_sp_disable_defunct_workers;
delimiter $$
create procedure qtopology_sp_disable_defunct_workers()
begin
    declare v_now datetime;
    declare v_dead_s int;
    declare v_limit datetime;

    set v_now = now();
    select coalesce(max(cast(value as unsigned)), 30) into v_dead_s
    from qtopology_settings
    where name = 'worker_dead_timeout_s';
    set v_limit = v_now - interval v_dead_s second;

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
    declare v_leader_s int;
    declare v_limit datetime;

    set v_now = now();
    select coalesce(max(cast(value as unsigned)), 10) into v_leader_s
    from qtopology_settings
    where name = 'leader_timeout_s';
    set v_limit = v_now - interval v_leader_s second;

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
    declare v_waiting_s int;
    declare v_limit datetime;

    set v_now = now();
    select coalesce(max(cast(value as unsigned)), 30) into v_waiting_s
    from qtopology_settings
    where name = 'waiting_timeout_s';
    set v_limit = v_now - interval v_waiting_s second;

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
    declare v_now datetime;
    declare v_retention_s int;

    set v_now = now();
    select coalesce(max(cast(value as unsigned)), 120) into v_retention_s
    from qtopology_settings
    where name = 'message_claim_retention_s';

    delete from qtopology_message
    where (claimed_by is null and valid_until < v_now)
        or (claimed_by is not null and claimed_at < v_now - interval v_retention_s second);
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

-- ---------------------------------------------------------------------------
-- Topologies
-- ---------------------------------------------------------------------------

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

    insert into qtopology_topology_history
        (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
    select v_now, t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.error, t.enabled, t.pid
    from qtopology_topology t
    where t.uuid = p_uuid;

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
    declare v_found int default 0;
    declare v_msg varchar(128);
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
    select count(*) into v_found
    from qtopology_worker
    where name = p_worker;
    if v_found = 0 then
        set v_msg = left(concat('worker not found: ', coalesce(p_worker, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

    select count(*) into v_found
    from qtopology_topology
    where uuid = p_uuid
    for update;
    if v_found = 0 then
        set v_msg = left(concat('topology not found: ', coalesce(p_uuid, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

    -- 'waiting' until the worker reports it running (or waiting_timeout_s passes)
    update qtopology_topology
    set worker = p_worker, status = 'waiting', last_ping = v_now
    where uuid = p_uuid;

    insert into qtopology_topology_history
        (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
    select v_now, t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.error, t.enabled, t.pid
    from qtopology_topology t
    where t.uuid = p_uuid;

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
    declare v_found int default 0;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128);
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

    select count(*), max(worker) into v_found, v_worker
    from qtopology_topology
    where uuid = p_uuid
    for update;
    if v_found = 0 then
        set v_msg = left(concat('topology not found: ', coalesce(p_uuid, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

    -- a worker reporting on a topology the leader has since given to someone
    -- else must not overwrite the new owner's state
    if p_worker is null or p_worker = v_worker then
        -- error text longer than the column is cut, not refused: it is a
        -- diagnostic, and losing the status change would be worse
        update qtopology_topology
        set status = p_status, error = left(p_error, 1000), last_ping = v_now
        where uuid = p_uuid;

        insert into qtopology_topology_history
            (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
        select v_now, t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.error, t.enabled, t.pid
        from qtopology_topology t
        where t.uuid = p_uuid;
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
    declare v_found int default 0;
    declare v_msg varchar(128);
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();

    select count(*) into v_found
    from qtopology_topology
    where uuid = p_uuid
    for update;
    if v_found = 0 then
        set v_msg = left(concat('topology not found: ', coalesce(p_uuid, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

    update qtopology_topology
    set pid = p_pid, last_ping = v_now
    where uuid = p_uuid;

    insert into qtopology_topology_history
        (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
    select v_now, t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.error, t.enabled, t.pid
    from qtopology_topology t
    where t.uuid = p_uuid;

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
    declare v_found int default 0;
    declare v_msg varchar(128);
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();

    select count(*) into v_found
    from qtopology_topology
    where uuid = p_uuid
    for update;
    if v_found = 0 then
        set v_msg = left(concat('topology not found: ', coalesce(p_uuid, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

    -- stored as 0/1, whatever truthy value the caller passed
    update qtopology_topology
    set enabled = case when coalesce(p_enabled, 0) <> 0 then 1 else 0 end
    where uuid = p_uuid;

    insert into qtopology_topology_history
        (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
    select v_now, t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.error, t.enabled, t.pid
    from qtopology_topology t
    where t.uuid = p_uuid;

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
    declare v_found int default 0;
    declare v_worker varchar(100) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128);
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

    select count(*), max(worker) into v_found, v_worker
    from qtopology_topology
    where uuid = p_uuid
    for update;
    if v_found = 0 then
        set v_msg = left(concat('topology not found: ', coalesce(p_uuid, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

    -- disabled first, so the leader does not hand it out again
    update qtopology_topology
    set enabled = 0
    where uuid = p_uuid;

    insert into qtopology_topology_history
        (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
    select v_now, t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.error, t.enabled, t.pid
    from qtopology_topology t
    where t.uuid = p_uuid;

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
    declare v_found int default 0;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128);
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();

    select count(*), max(status) into v_found, v_status
    from qtopology_topology
    where uuid = p_uuid
    for update;
    if v_found = 0 then
        set v_msg = left(concat('topology not found: ', coalesce(p_uuid, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;
    if v_status <> 'error' then
        set v_msg = left(concat('topology is ', v_status, ', not in error: ', coalesce(p_uuid, 'NULL')), 128);
        signal sqlstate '45400' set message_text = v_msg;
    end if;

    update qtopology_topology
    set status = 'unassigned', error = null, last_ping = v_now
    where uuid = p_uuid;

    insert into qtopology_topology_history
        (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
    select v_now, t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.error, t.enabled, t.pid
    from qtopology_topology t
    where t.uuid = p_uuid;

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_delete_topology;
delimiter $$
create procedure qtopology_sp_delete_topology(
    p_uuid varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_found int default 0;
    declare v_msg varchar(128);
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set transaction isolation level read committed;
    start transaction;

    select count(*) into v_found
    from qtopology_topology
    where uuid = p_uuid
    for update;
    if v_found = 0 then
        set v_msg = left(concat('topology not found: ', coalesce(p_uuid, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

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
    order by t.uuid;
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
    declare v_msg varchar(128);

    if not exists (select 1 from qtopology_topology where uuid = p_uuid) then
        set v_msg = left(concat('topology not found: ', coalesce(p_uuid, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

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

-- ---------------------------------------------------------------------------
-- Messages. A reader claims rows with its claim key in the transaction that
-- returns them; a retried read with the same key gets the same rows back, so a
-- reply lost on the wire loses no message and none is delivered twice.
-- ---------------------------------------------------------------------------

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
    declare v_found int default 0;
    declare v_msg varchar(128);
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

    select count(*) into v_found
    from qtopology_worker
    where name = p_worker;
    if v_found = 0 then
        set v_msg = left(concat('worker not found: ', coalesce(p_worker, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

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
    declare v_now datetime;
    declare v_found int default 0;
    declare v_claimed int default 0;
    declare v_limit bigint;
    declare v_msg varchar(128);
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

    -- 0 (or less) means every queued message
    set v_limit = case when coalesce(p_limit, 0) > 0 then p_limit else 4294967295 end;

    set transaction isolation level read committed;
    start transaction;
    set v_now = now();

    -- Readers of one queue take turns on the worker's row. A call retried
    -- while its first attempt is still finishing on the server thus waits
    -- for it, and then sees what it claimed.
    select count(*) into v_found
    from qtopology_worker
    where name = p_name
    for update;
    if v_found = 0 then
        set v_msg = left(concat('worker not found: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

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

    -- Expired and long-claimed rows are purged by refresh_statuses, so an
    -- empty poll writes nothing and its commit costs no log flush.
    select m.id, m.cmd, m.content, m.created, unix_timestamp(m.created) as created_unix
    from qtopology_message m
    where m.worker = p_name and m.claimed_by = p_claim_key
    order by m.id;

    commit;
end $$
delimiter ;

drop procedure if exists qtopology_sp_messages_for_worker;
delimiter $$
create procedure qtopology_sp_messages_for_worker(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_retention_s int;
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

    select coalesce(max(cast(value as unsigned)), 120) into v_retention_s
    from qtopology_settings
    where name = 'message_claim_retention_s';

    -- no unknown-worker check: the Node package never expected one
    update qtopology_worker
    set last_ping = v_now
    where name = p_name;

    delete from qtopology_message
    where worker = p_name
        and ((claimed_by is null and valid_until < v_now)
             or (claimed_by is not null and claimed_at < v_now - interval v_retention_s second));

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

-- ---------------------------------------------------------------------------
-- Storage description
-- ---------------------------------------------------------------------------

drop procedure if exists qtopology_sp_storage_properties;
delimiter $$
create procedure qtopology_sp_storage_properties()
begin
    select (select s.value from qtopology_settings s where s.name = 'db_version') as db_version,
           version() as server_version;
end $$
delimiter ;
