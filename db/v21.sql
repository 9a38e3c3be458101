-- Version 21: the worker loop's combined calls, each one round trip (see
-- db/README.md): a heartbeat that pings, takes the worker's messages and
-- reports leadership; a campaign; and the leader's writes of one loop, fenced
-- by leadership in the same transaction. Message polls that find nothing no
-- longer open a transaction. Re-runnable, like every file.
--
-- The conventions of v19 hold: utf8mb4_bin text parameters, READ COMMITTED,
-- 45404 / 45400, history rows in the same transaction, leadership changes
-- serialised by writing the leadership_epoch row first.

-- ---------------------------------------------------------------------------
-- Schema: the heartbeat finds the leader through an index on lstatus instead
-- of reading every worker row. lstatus changes only in elections, so pings
-- never touch this index. (MySQL 8 has no CREATE INDEX IF NOT EXISTS.)
-- ---------------------------------------------------------------------------

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

-- ---------------------------------------------------------------------------
-- Messages
-- ---------------------------------------------------------------------------

-- Claims a worker's messages for p_claim_key (up to p_limit, 0 = all) and
-- returns nothing: the callers select the claimed rows. A poll that finds no
-- message for it (unclaimed, or already claimed by this key) does two
-- non-locking index reads and leaves: no transaction, no lock, no commit. That check is safe
-- for once-only delivery: a row a concurrent attempt is still claiming reads
-- as unclaimed until that attempt commits, so it sends us down the locking
-- path, which waits for it. Expired rows count as "something" here, so the
-- decision never depends on the clock; refresh_statuses purges them.
drop procedure if exists qtopology_sp_claim_messages;
delimiter $$
create procedure qtopology_sp_claim_messages(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_claim_key varchar(40) character set utf8mb4 collate utf8mb4_bin,
    p_limit int)
claim: begin
    declare v_now datetime;
    declare v_found int default 0;
    declare v_claimed int default 0;
    declare v_pending int default 0;
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

    -- SELECT ... INTO, not IF EXISTS (...): MariaDB runs a subquery of IF or
    -- SET as a locking read, which would wait for a transaction holding the row.
    select count(*) into v_pending
    from qtopology_message
    where worker = p_name and (claimed_by is null or claimed_by = p_claim_key);
    if v_pending = 0 then
        select count(*) into v_found
        from qtopology_worker
        where name = p_name;
        if v_found = 0 then
            set v_msg = left(concat('worker not found: ', coalesce(p_name, 'NULL')), 128);
            signal sqlstate '45404' set message_text = v_msg;
        end if;
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

-- ---------------------------------------------------------------------------
-- Workers
-- ---------------------------------------------------------------------------

-- One tick of a worker: ping (status untouched: a disabled or dead worker
-- stays so, and learns it from the result), take its messages, and report the
-- leader. Every read goes through a unique key or the lstatus index.
drop procedure if exists qtopology_sp_worker_heartbeat;
delimiter $$
create procedure qtopology_sp_worker_heartbeat(
    p_name varchar(100) character set utf8mb4 collate utf8mb4_bin,
    p_claim_key varchar(40) character set utf8mb4 collate utf8mb4_bin)
begin
    declare v_now datetime;
    declare v_leader varchar(100) character set utf8mb4 collate utf8mb4_bin default null;
    declare v_leader_alive tinyint default 0;

    call qtopology_sp_worker_ping(p_name);
    call qtopology_sp_claim_messages(p_name, p_claim_key, 0);

    -- The leader in a statement of its own: MariaDB 10.11 crashed (signal 11,
    -- freeing a derived table's temporary table) running this lookup as a
    -- derived table joined below, under concurrent heartbeats. Should several
    -- rows be marked leader (a peer's doing), a live one is reported.
    set v_now = now();
    select c.name,
           c.status = 'alive'
               and c.last_ping >= v_now - interval qtopology_setting_int('leader_timeout_s') second
    into v_leader, v_leader_alive
    from qtopology_worker c
    where c.lstatus = 'leader'
    order by 2 desc, c.last_ping desc
    limit 1;

    -- One row per taken message (id order), each carrying the worker's own
    -- state; one row with NULL message columns when nothing was taken.
    select w.status,
           case when w.lstatus = '' then 'normal' else w.lstatus end as lstatus,
           v_leader as leader,
           v_leader_alive as leader_alive,
           unix_timestamp(v_now) as now_unix,
           m.id, m.cmd, m.content, unix_timestamp(m.created) as created_unix
    from qtopology_worker w
    left join qtopology_message m on m.worker = w.name and m.claimed_by = p_claim_key
    where w.name = p_name
    order by m.id;
end $$
delimiter ;

-- ---------------------------------------------------------------------------
-- Leadership
-- ---------------------------------------------------------------------------

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
    declare v_msg varchar(128);
    -- the workers to unload that are still dead, locked in name order
    declare dead_workers cursor for
        select w.name
        from qtopology_worker w
        join json_table(p_actions, '$.unload_workers[*]'
                        columns (name varchar(100) path '$')) j
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

    select coalesce(max(cast(value as unsigned)), 10) into v_leader_s
    from qtopology_settings
    where name = 'leader_timeout_s';

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
                            columns (name varchar(100) path '$')) j
            union all
            select j.name
            from json_table(p_actions, '$.assignments[*]'
                            columns (name varchar(100) path '$.worker')) j
            union all
            select j.name
            from json_table(p_actions, '$.messages[*]'
                            columns (name varchar(100) path '$.worker')) j
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
                            columns (uuid varchar(100) path '$')) j
            union all
            select j.uuid
            from json_table(p_actions, '$.assignments[*]'
                            columns (uuid varchar(100) path '$.uuid')) j
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
                        columns (uuid varchar(100) path '$')) j
            on t.uuid = j.uuid collate utf8mb4_bin
        set t.status = 'unassigned', t.error = null, t.last_ping = v_now;

        -- 3. assignments: waiting on their worker until it reports running
        update qtopology_topology t
        join json_table(p_actions, '$.assignments[*]'
                        columns (uuid varchar(100) path '$.uuid',
                                 worker varchar(100) path '$.worker')) j
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
                            columns (uuid varchar(100) path '$')) j
            union all
            select j.uuid
            from json_table(p_actions, '$.assignments[*]'
                            columns (uuid varchar(100) path '$.uuid')) j
        ) changed on t.uuid = changed.uuid collate utf8mb4_bin;

        -- 4. the messages (start_topologies, stop_topologies), whole seconds
        --    rounded up like send_message; a key already sent is a no-op
        insert into qtopology_message (worker, cmd, content, created, valid_until, msg_key)
        select j.worker, j.cmd, j.content, v_now,
               v_now + interval ceil(j.valid_ms / 1000) second, j.msg_key
        from json_table(p_actions, '$.messages[*]'
                        columns (worker varchar(100) path '$.worker',
                                 cmd varchar(100) path '$.cmd',
                                 content mediumtext path '$.content',
                                 valid_ms bigint path '$.valid_ms',
                                 msg_key varchar(40) path '$.msg_key')) j
        on duplicate key update id = id;

        commit;
    end if;

    select v_is_leader as applied;
end $$
delimiter ;

-- ---------------------------------------------------------------------------
-- Storage description: the cluster-wide setting the worker library reads.
-- ---------------------------------------------------------------------------

drop procedure if exists qtopology_sp_storage_properties;
delimiter $$
create procedure qtopology_sp_storage_properties()
begin
    select (select s.value from qtopology_settings s where s.name = 'db_version') as db_version,
           version() as server_version,
           (select s.value from qtopology_settings s
            where s.name = 'rebalance_interval_s') as rebalance_interval_s;
end $$
delimiter ;
