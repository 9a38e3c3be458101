-- Version 23: a cheaper heartbeat (see db/README.md).
-- v21's heartbeat nested two CALLs, looked the leader up in a statement of its
-- own and joined the worker row to its messages with ORDER BY. That join put
-- the message text (MEDIUMTEXT) into an internal temporary table, which
-- MariaDB keeps on disk: a file created and deleted per heartbeat, about half
-- of its 0.54 ms of server CPU. Now an empty heartbeat is one UPDATE and one
-- SELECT ... INTO; only a heartbeat that finds messages claims and reads them.
-- Re-runnable, like every file.

-- ---------------------------------------------------------------------------
-- Messages
-- ---------------------------------------------------------------------------

-- v21's claim, on the v20 helper that checks and locks the worker row.
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

-- ---------------------------------------------------------------------------
-- Workers
-- ---------------------------------------------------------------------------

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
    declare v_msg varchar(128);

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
    -- The setting's row is read inline; the function that knows its default
    -- runs only when the row is missing.
    select count(*), max(w.status), max(w.lstatus),
           max(concat(c.status = 'alive'
                          and c.last_ping >= v_now - interval coalesce(
                              cast(s.value as unsigned),
                              qtopology_setting_int('leader_timeout_s')) second,
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
