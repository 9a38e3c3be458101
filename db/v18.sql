-- Version 18: our schema additions on top of the Node package's version 17.
-- Upgrades a Node-made database in place: every row is kept, except duplicate
-- workers (same name) and topologies (same uuid), of which the newest survives.
--
-- DDL is not transactional, so each step is written to be re-run safely after
-- a failure part-way: conversions are idempotent, columns and indexes are added
-- only when missing (MySQL 8 has no ADD COLUMN / CREATE INDEX IF NOT EXISTS),
-- settings rows use insert ignore.

-- Helper for the "only when missing" steps; it lives only while this file runs.
-- p_kind is 'column' or 'index'; p_ddl is a constant statement of this file.
drop procedure if exists qtopology_tmp_alter_if_missing;
delimiter $$
create procedure qtopology_tmp_alter_if_missing(
    p_table varchar(64),
    p_kind varchar(10),
    p_name varchar(64),
    p_ddl varchar(1000))
begin
    declare v_found int default 0;

    if p_kind = 'column' then
        select count(*) into v_found
        from information_schema.columns
        where table_schema = database() and table_name = p_table and column_name = p_name;
    else
        select count(*) into v_found
        from information_schema.statistics
        where table_schema = database() and table_name = p_table and index_name = p_name;
    end if;

    if v_found = 0 then
        set @qtopology_ddl = p_ddl;
        prepare qtopology_ddl_stmt from @qtopology_ddl;
        execute qtopology_ddl_stmt;
        deallocate prepare qtopology_ddl_stmt;
    end if;
    set @qtopology_ddl = null;
end $$
delimiter ;

-- 1. One character set and a binary collation everywhere: names are compared
--    byte for byte (case-sensitive, as the Node package's callers assume), and
--    procedure parameters declared utf8mb4_bin never mix collations with
--    columns. Converting first also makes the de-duplication below use the
--    same equality as the unique keys added after it.
alter table qtopology_settings convert to character set utf8mb4 collate utf8mb4_bin;
alter table qtopology_worker convert to character set utf8mb4 collate utf8mb4_bin;
alter table qtopology_topology convert to character set utf8mb4 collate utf8mb4_bin;
alter table qtopology_message convert to character set utf8mb4 collate utf8mb4_bin;
alter table qtopology_worker_history convert to character set utf8mb4 collate utf8mb4_bin;
alter table qtopology_topology_history convert to character set utf8mb4 collate utf8mb4_bin;

-- Converting a utf8mb3 table widens mediumtext to longtext (to keep the same
-- number of characters); put the documented types back so every database has
-- the same schema whatever its starting character set.
alter table qtopology_settings
    modify value mediumtext character set utf8mb4 collate utf8mb4_bin not null;
alter table qtopology_topology
    modify config mediumtext character set utf8mb4 collate utf8mb4_bin not null;
alter table qtopology_message
    modify content mediumtext character set utf8mb4 collate utf8mb4_bin not null;

-- 2. Remove duplicates, keeping the row with the highest id (the Node package
--    updated all copies alike, the last inserted one is the freshest).
delete older
from qtopology_worker older
join qtopology_worker newer on newer.name = older.name and newer.id > older.id;

delete older
from qtopology_topology older
join qtopology_topology newer on newer.uuid = older.uuid and newer.id > older.id;

-- 3. Unique names and uuids, now that duplicates are gone.
call qtopology_tmp_alter_if_missing('qtopology_worker', 'index', 'uq_qtopology_worker_name',
    'alter table qtopology_worker add unique key uq_qtopology_worker_name (name)');
call qtopology_tmp_alter_if_missing('qtopology_topology', 'index', 'uq_qtopology_topology_uuid',
    'alter table qtopology_topology add unique key uq_qtopology_topology_uuid (uuid)');

-- 4. New columns, all nullable so the Node package's inserts keep working.
--    Worker process id, like the topology's.
call qtopology_tmp_alter_if_missing('qtopology_worker', 'column', 'pid',
    'alter table qtopology_worker add column pid int null');
call qtopology_tmp_alter_if_missing('qtopology_worker_history', 'column', 'pid',
    'alter table qtopology_worker_history add column pid int null');
--    Once-only delivery: msg_key makes a retried send a no-op; claimed_by and
--    claimed_at let a retried read get back what it already claimed.
call qtopology_tmp_alter_if_missing('qtopology_message', 'column', 'msg_key',
    'alter table qtopology_message add column msg_key varchar(40) null');
call qtopology_tmp_alter_if_missing('qtopology_message', 'column', 'claimed_by',
    'alter table qtopology_message add column claimed_by varchar(40) null');
call qtopology_tmp_alter_if_missing('qtopology_message', 'column', 'claimed_at',
    'alter table qtopology_message add column claimed_at datetime null');

-- 5. Indexes for the hot queries. Unique msg_key allows many NULLs (the Node
--    package sends without a key).
call qtopology_tmp_alter_if_missing('qtopology_message', 'index', 'uq_qtopology_message_key',
    'alter table qtopology_message add unique key uq_qtopology_message_key (msg_key)');
-- a worker reading its queue: unclaimed (or claimed by its key) rows in id order
call qtopology_tmp_alter_if_missing('qtopology_message', 'index', 'ix_qtopology_message_wci',
    'alter table qtopology_message add key ix_qtopology_message_wci (worker, claimed_by, id)');
-- topologies of one worker (getTopologiesForWorker, dead-worker unassignment)
call qtopology_tmp_alter_if_missing('qtopology_topology', 'index', 'ix_qtopology_topology_worker',
    'alter table qtopology_topology add key ix_qtopology_topology_worker (worker)');
-- No index on status/last_ping: those columns change on every ping, and an
-- index on them would only add lock conflicts between pings and the refresh on
-- tables of a few hundred rows at most.

drop procedure if exists qtopology_tmp_alter_if_missing;

-- 6. Cluster-wide settings. leadership_epoch is the row every leadership change
--    writes first (see db/README.md); the timeouts are in seconds.
insert ignore into qtopology_settings (name, value) values ('leadership_epoch', '0');
insert ignore into qtopology_settings (name, value) values ('worker_dead_timeout_s', '30');
insert ignore into qtopology_settings (name, value) values ('leader_timeout_s', '10');
insert ignore into qtopology_settings (name, value) values ('waiting_timeout_s', '30');
insert ignore into qtopology_settings (name, value) values ('message_claim_retention_s', '120');
