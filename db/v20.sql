-- Version 20: the blocks v19 wrote again and again become helpers, and the
-- procedures that repeated them are created again on top of the helpers.
-- Behaviour, signatures and result sets stay those of v19 (db/README.md).
-- Re-runnable: every routine is dropped before it is created.
--
-- The helpers join their caller's transaction and start none:
-- * qtopology_setting_int(name): a timeout setting, its default kept here only;
-- * require_worker / require_topology: the row's state, or SQLSTATE 45404
--   naming what was not found;
-- * snapshot_worker / snapshot_topology: one history row with the caller's time;
-- * demote_other_leaders: every leader or candidate but one steps back;
-- * purge_stale_messages: the retention rule for message rows.

-- ---------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------

drop function if exists qtopology_setting_int;
delimiter $$
create function qtopology_setting_int(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin)
returns int
reads sql data
begin
    declare v_default int;
    declare v_value int;
    declare v_msg varchar(128);

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

    select coalesce(max(cast(value as unsigned)), v_default) into v_value
    from qtopology_settings
    where name = p_name;
    return v_value;
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
    declare v_msg varchar(128);

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
    declare v_msg varchar(128);

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

    -- p_worker NULL: the queues of every worker
    set v_now = now();
    set v_claims_until = v_now - interval qtopology_setting_int('message_claim_retention_s') second;

    delete from qtopology_message
    where (p_worker is null or worker = p_worker)
        and ((claimed_by is null and valid_until < v_now)
             or (claimed_by is not null and claimed_at < v_claims_until));
end $$
delimiter ;

-- ---------------------------------------------------------------------------
-- Node-compatible history entry points
-- ---------------------------------------------------------------------------

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

-- ---------------------------------------------------------------------------
-- Workers
-- ---------------------------------------------------------------------------

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

drop procedure if exists qtopology_sp_set_worker_status;
delimiter $$
create procedure qtopology_sp_set_worker_status(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_status varchar(10) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
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
    declare v_msg varchar(128);
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

-- ---------------------------------------------------------------------------
-- Leadership (see v19: every change of who leads first writes the
-- leadership_epoch row, then reads worker rows "for update").
-- ---------------------------------------------------------------------------

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
    set v_leader_s = qtopology_setting_int('leader_timeout_s');
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
    set v_leader_s = qtopology_setting_int('leader_timeout_s');
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
    set v_leader_s = qtopology_setting_int('leader_timeout_s');
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

-- ---------------------------------------------------------------------------
-- Periodic refresh: the helpers run inside refresh_statuses' transaction
-- (v19); each writes the history rows with the new values first, then
-- updates the very rows it has just locked.
-- ---------------------------------------------------------------------------

drop procedure if exists qtopology_sp_disable_defunct_workers;
delimiter $$
create procedure qtopology_sp_disable_defunct_workers()
begin
    declare v_now datetime;
    declare v_limit datetime;

    set v_now = now();
    set v_limit = v_now - interval qtopology_setting_int('worker_dead_timeout_s') second;

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

    set v_now = now();
    set v_limit = v_now - interval qtopology_setting_int('leader_timeout_s') second;

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

    set v_now = now();
    set v_limit = v_now - interval qtopology_setting_int('waiting_timeout_s') second;

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
    declare v_msg varchar(128);
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

-- ---------------------------------------------------------------------------
-- Messages (see v19 for the claim protocol)
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
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
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
    declare v_now datetime;
    declare v_claimed int default 0;
    declare v_limit bigint;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
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
