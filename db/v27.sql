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
