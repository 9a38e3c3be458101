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


-- ---------------------------------------------------------------------------
-- Section: last_ping is the last heartbeat (issue 29)
--
-- v25's leader unload wrote last_ping = now when it unloaded a dead worker,
-- so an operator reading the worker's last ping saw the unload instead of
-- the heartbeat the worker was judged by. qtopology_sp_apply_leader_actions
-- keeps its signature, result and every other write; the unload now leaves
-- last_ping alone, and its time is the worker history row it writes.
-- Nothing judges an unloaded worker by last_ping: refresh_statuses looks at
-- alive and closing workers only, as Node qtopology's leader does, which
-- skips dead and unloaded workers; register_worker stamps a fresh ping when
-- the worker comes back. (A Node leader unloads through its own plain
-- UPDATE, which still stamps the time: its meaning, unchanged.)
-- ---------------------------------------------------------------------------

-- The leader loop's writes (v25's body): an assignment grows the epoch;
-- p_actions and the fencing as v21 describes them; a worker that came back
-- since the leader looked keeps its status, though its running topologies
-- were already unassigned when it was declared dead. The unload of a dead
-- worker keeps its last_ping: the last heartbeat.
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
        --    unloaded, its last_ping kept (the last heartbeat, not the unload:
        --    that is the history row's ts); history rows carry the new values
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
            set status = 'unloaded', lstatus = 'normal'
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

-- (end of section: last ping)

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
