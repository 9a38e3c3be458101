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
-- Section: an idle leader writes only when it must (issue 27)
--
-- v26's heartbeat still wrote a leader's ping on every call, and v24's
-- refresh_statuses takes the epoch lock (it updates leadership_epoch) on
-- every leader loop: together the larger part of what an idle cluster still
-- committed. Both now write only when something is due.
--
-- qtopology_sp_worker_heartbeat_v26, same signature and result: a leader
-- writes its ping when due like every worker. heartbeat_write_interval_s is
-- capped at half of leader_timeout_s, so a live leader's ping stays less
-- than half that timeout (plus one heartbeat period) old; at most one leader
-- is kept by the election's epoch lock and the fenced leader writes, not by
-- the ping. A candidate still writes on every call while its election runs.
--
-- qtopology_sp_refresh_statuses, same signature and meaning: it looks first,
-- with non-locking reads, for anything its four steps would change, and
-- returns without a transaction when there is nothing. That look cannot
-- lose work: a row that becomes due while it reads is taken by the next
-- loop, and what it finds is judged again under the lock by the same four
-- steps as before.
-- ---------------------------------------------------------------------------

drop procedure if exists qtopology_sp_worker_heartbeat_v26;
delimiter $$
create procedure qtopology_sp_worker_heartbeat_v26(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_claim_key varchar(40) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_found int default 0;
    declare v_pending int default 0;
    declare v_wrote int default 0;
    declare v_status varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_lstatus varchar(10) character set utf8mb4 collate utf8mb4_bin;
    declare v_last_ping datetime;
    declare v_interval_s bigint;
    -- the leader's name, prefixed with 1 when it is live and 0 when not
    declare v_leader varchar(101) character set utf8mb4 collate utf8mb4_bin;
    declare v_msg varchar(128) character set utf8mb4 collate utf8mb4_bin;

    set v_now = now();

    -- One non-locking read, as v24's heartbeat (see there for why no derived
    -- table and no CALL): the worker's row, the leader's, whether a message
    -- waits, and the settings rows by primary key, with
    -- qtopology_sp_setting_int's defaults for missing rows. A value that is
    -- not a number casts to 0: for the interval, that writes every call.
    select count(*), max(w.status), max(w.lstatus), max(w.last_ping),
           max(concat(c.status = 'alive'
                          and c.last_ping >= v_now - interval coalesce(
                              cast(sl.value as unsigned), 10) second,
                      c.name)),
           max(m.id is not null),
           max(least(coalesce(cast(si.value as unsigned), 4294967295),
                     floor(least(coalesce(cast(sd.value as unsigned), 30),
                                 coalesce(cast(sl.value as unsigned), 10)) / 2)))
    into v_found, v_status, v_lstatus, v_last_ping, v_leader, v_pending, v_interval_s
    from qtopology_worker w
    left join qtopology_settings sl on sl.name = 'leader_timeout_s'
    left join qtopology_settings sd on sd.name = 'worker_dead_timeout_s'
    left join qtopology_settings si on si.name = 'heartbeat_write_interval_s'
    left join qtopology_worker c on c.lstatus = 'leader'
    left join qtopology_message m
        on m.worker = w.name and (m.claimed_by is null or m.claimed_by = p_claim_key)
    where w.name = p_name;

    if v_found = 0 then
        set v_msg = left(concat('worker not found: ', coalesce(p_name, 'NULL')), 128);
        signal sqlstate '45404' set message_text = v_msg;
    end if;

    -- Due: the ping is the interval old (whole seconds, as the column keeps
    -- them), or in the future (the server's clock stepped back); a candidate
    -- pings every call while its election runs; a waiting message is a write
    -- anyway.
    if v_pending
        or v_lstatus = 'candidate'
        or v_last_ping is null
        or v_last_ping <= v_now - interval v_interval_s second
        or v_last_ping > v_now then
        -- one locking statement in autocommit, as worker_ping
        update qtopology_worker
        set last_ping = v_now
        where name = p_name;
        set v_wrote = 1;
    end if;

    if v_pending then
        call qtopology_sp_claim_messages(p_name, p_claim_key, 1000);
        select count(*) into v_pending
        from qtopology_message
        where worker = p_name and claimed_by = p_claim_key;
    end if;

    if v_pending then
        select v_status as status,
               case when v_lstatus = '' then 'normal' else v_lstatus end as lstatus,
               substring(v_leader, 2) as leader, coalesce(left(v_leader, 1) = '1', 0) as leader_alive,
               unix_timestamp(v_now) as now_unix, v_wrote as wrote,
               m.id, m.cmd, m.content, unix_timestamp(m.created) as created_unix
        from qtopology_message m
        where m.worker = p_name and m.claimed_by = p_claim_key
        order by m.id;
    else
        select v_status as status,
               case when v_lstatus = '' then 'normal' else v_lstatus end as lstatus,
               substring(v_leader, 2) as leader, coalesce(left(v_leader, 1) = '1', 0) as leader_alive,
               unix_timestamp(v_now) as now_unix, v_wrote as wrote,
               null as id, null as cmd, null as content, null as created_unix;
    end if;
end $$
delimiter ;

drop procedure if exists qtopology_sp_refresh_statuses;
delimiter $$
create procedure qtopology_sp_refresh_statuses()
begin
    declare v_now datetime;
    declare v_dead_s int;
    declare v_leader_s int;
    declare v_waiting_s int;
    declare v_retention_s int;
    declare v_due int default 0;
    declare exit handler for sqlexception
    begin
        rollback;
        resignal;
    end;

    set v_now = now();
    call qtopology_sp_setting_int('worker_dead_timeout_s', v_dead_s);
    call qtopology_sp_setting_int('leader_timeout_s', v_leader_s);
    call qtopology_sp_setting_int('waiting_timeout_s', v_waiting_s);
    call qtopology_sp_setting_int('message_claim_retention_s', v_retention_s);
    -- the predicates of disable_defunct_workers, disable_defunct_leaders,
    -- unassign_waiting_topologies and purge_stale_messages, in that order
    select exists (select 1 from qtopology_worker
                   where status in ('alive', 'closing')
                       and last_ping < v_now - interval v_dead_s second)
        or exists (select 1 from qtopology_worker
                   where lstatus in ('leader', 'candidate')
                       and (status <> 'alive' or last_ping < v_now - interval v_leader_s second))
        or exists (select 1 from qtopology_topology t
                   where (t.status = 'waiting' and t.last_ping < v_now - interval v_waiting_s second)
                       or (t.status = 'running' and exists (
                               select 1 from qtopology_worker w
                               where w.name = t.worker and w.status = 'dead')))
        or exists (select 1 from qtopology_message
                   where (claimed_by is null and valid_until < v_now)
                       or (claimed_by is not null
                           and claimed_at < v_now - interval v_retention_s second))
    into v_due;
    if v_due then
        -- v24's body: under the epoch lock, as demoting leaders must not
        -- interleave with an election
        set transaction isolation level read committed;
        start transaction;
        update qtopology_settings
        set value = cast(value as unsigned) + 1
        where name = 'leadership_epoch';

        call qtopology_sp_disable_defunct_workers();
        call qtopology_sp_disable_defunct_leaders();
        call qtopology_sp_unassign_waiting_topologies();
        call qtopology_sp_purge_messages();

        commit;
    end if;
end $$
delimiter ;

-- (end of section: idle leader)
