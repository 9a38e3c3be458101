-- Version 26. Several changes share this file, each in its own section.

-- ---------------------------------------------------------------------------
-- Section: a heartbeat that writes only when it must (issue 27)
--
-- v25's heartbeat wrote last_ping on every call: one commit, one redo write
-- and, with binary logging, one ROW event per worker per second, while the
-- column only has whole seconds and the cluster judges it against timeouts
-- of 10 s and more. qtopology_sp_worker_heartbeat_v26 writes it only when it
-- is at least heartbeat_write_interval_s old, or when the worker is a leader
-- or candidate (judged against the short leader_timeout_s), or when a
-- message waits (the claim commits anyway); otherwise the call is reads
-- only. Its result says whether it wrote (column `wrote`): a worker's lease
-- runs from the last heartbeat that wrote.
--
-- heartbeat_write_interval_s is read from qtopology_settings; a missing row
-- means the largest value allowed, and any value is capped at
-- floor(min(worker_dead_timeout_s, leader_timeout_s) / 2), so a live
-- worker's last_ping is never more than half of either timeout (plus one
-- heartbeat period) old. 0 writes on every call, as v25 did.
--
-- qtopology_sp_worker_heartbeat (v25's shape, called by v25 workers during a
-- rolling upgrade) keeps its signature, result and ping on every call; it
-- now claims at most 1,000 messages a call, as take_messages does for
-- getMessages (the rest come with the next call).
-- ---------------------------------------------------------------------------

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

    -- v24's read, unchanged (see there)
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
        call qtopology_sp_claim_messages(p_name, p_claim_key, 1000);
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

-- One tick of a worker, writing only when it must. The same reads as v25's
-- heartbeat, with the worker's last_ping and the write interval in the one
-- non-locking read, and the ping's UPDATE only after it, when due. A retry
-- after a lost reply may write where the first attempt did not, never the
-- other way round: `wrote` = 0 is only ever returned by a call that wrote
-- nothing.
--
-- Result: as qtopology_sp_worker_heartbeat, with column `wrote` (1/0).
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
    -- them), or in the future (the server's clock stepped back); leaders and
    -- candidates ping every call, as their timeout is the short one; a
    -- waiting message is a write anyway.
    if v_pending
        or v_lstatus in ('leader', 'candidate')
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

-- (end of section: heartbeat)

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

drop procedure if exists qtopology_sp_clear_topology_error_v26;
delimiter $$
create procedure qtopology_sp_clear_topology_error_v26(
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
-- Section: a leader's read that shows bad rows (issue 28)
--
-- Another writer (the Node package, plain SQL) can leave a topology row whose
-- config does not parse or is no JSON object. The library flags such a row
-- and its leader does not place it; to judge it, it needs the config of the
-- rows it would place, and only those: enabled and unassigned, so normally a
-- few new ones per loop. Column `pending_config` holds it; NULL for every
-- other row. The rest of the result is v22's, in table order.
-- ---------------------------------------------------------------------------

drop procedure if exists qtopology_sp_topologies;
delimiter $$
create procedure qtopology_sp_topologies()
begin
    select t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.enabled,
           unix_timestamp(t.last_ping) as last_ping_unix, t.error, t.pid, t.epoch,
           case when t.enabled = 1 and t.status = 'unassigned' then t.config end
               as pending_config
    from qtopology_topology t
    order by t.id;
end $$
delimiter ;

-- (end of section: bad rows)
