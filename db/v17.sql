-- Version 17: the schema of the Node package qtopology-mysql 2.2.x, built on an
-- empty database. Tables, columns and procedure behaviour match what that
-- package reads and writes, so a Node peer can share the database. Everything
-- we add on top lives in v18 and later.
--
-- Re-runnable: tables use "if not exists", procedures are dropped first.

-- Workers, one row per worker process (no unique key on name yet: v18 adds it
-- after removing duplicates that old Node versions could leave behind).
create table if not exists qtopology_worker (
    id int not null auto_increment,
    name varchar(100) not null,
    status varchar(10) not null,
    last_ping datetime not null,
    lstatus varchar(10) not null,
    primary key (id)
) engine = innodb;

-- Topologies; worker_affinity is a comma-separated list of worker names.
create table if not exists qtopology_topology (
    id int not null auto_increment,
    uuid varchar(100) not null,
    config mediumtext not null,
    status varchar(10) not null,
    worker varchar(100) null,
    weight float not null,
    worker_affinity varchar(200) null,
    last_ping datetime not null,
    error varchar(1000) null,
    enabled tinyint not null,
    pid int null,
    primary key (id)
) engine = innodb;

-- Queue of leader-to-worker commands; content is JSON text.
create table if not exists qtopology_message (
    id bigint not null auto_increment,
    worker varchar(100) not null,
    cmd varchar(100) not null,
    content mediumtext not null,
    created datetime not null,
    valid_until datetime not null,
    primary key (id)
) engine = innodb;

create table if not exists qtopology_worker_history (
    id bigint not null auto_increment,
    ts datetime not null,
    name varchar(100) not null,
    status varchar(10) not null,
    lstatus varchar(10) not null,
    primary key (id),
    key ix_qtopology_worker_history_nt (name, ts)
) engine = innodb;

create table if not exists qtopology_topology_history (
    id bigint not null auto_increment,
    ts datetime not null,
    uuid varchar(100) not null,
    status varchar(10) not null,
    worker varchar(100) null,
    weight float not null,
    worker_affinity varchar(200) null,
    error varchar(1000) null,
    enabled tinyint not null,
    pid int null,
    primary key (id),
    key ix_qtopology_topology_history_ut (uuid, ts)
) engine = innodb;

-- Procedures as the Node package 2.2.x has them at version 17. Version 17 still
-- writes lstatus '' for "normal"; v19 replaces every one of them.

drop procedure if exists qtopology_sp_add_worker_history;
delimiter $$
create procedure qtopology_sp_add_worker_history(p_name varchar(100))
begin
    -- copy the current row; an unknown name simply adds nothing
    insert into qtopology_worker_history (ts, name, status, lstatus)
    select now(), w.name, w.status, w.lstatus
    from qtopology_worker w
    where w.name = p_name;
end $$
delimiter ;

drop procedure if exists qtopology_sp_add_topology_history;
delimiter $$
create procedure qtopology_sp_add_topology_history(p_uuid varchar(100))
begin
    insert into qtopology_topology_history
        (ts, uuid, status, worker, weight, worker_affinity, error, enabled, pid)
    select now(), t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.error, t.enabled, t.pid
    from qtopology_topology t
    where t.uuid = p_uuid;
end $$
delimiter ;

drop procedure if exists qtopology_sp_register_worker;
delimiter $$
create procedure qtopology_sp_register_worker(p_name varchar(100))
begin
    -- a (re)starting worker is alive and holds no leadership
    update qtopology_worker
    set status = 'alive', lstatus = '', last_ping = now()
    where name = p_name;
    if not exists (select 1 from qtopology_worker where name = p_name) then
        insert into qtopology_worker (name, status, lstatus, last_ping)
        values (p_name, 'alive', '', now());
    end if;
    call qtopology_sp_add_worker_history(p_name);
end $$
delimiter ;

drop procedure if exists qtopology_sp_worker_ping;
delimiter $$
create procedure qtopology_sp_worker_ping(p_name varchar(100))
begin
    update qtopology_worker
    set last_ping = now()
    where name = p_name;
end $$
delimiter ;

drop procedure if exists qtopology_sp_announce_leader_candidacy;
delimiter $$
create procedure qtopology_sp_announce_leader_candidacy(p_name varchar(100))
begin
    -- only campaign while nobody holds the leadership
    if not exists (select 1 from qtopology_worker where lstatus = 'leader') then
        update qtopology_worker
        set lstatus = 'candidate', last_ping = now()
        where name = p_name;
        call qtopology_sp_add_worker_history(p_name);
    end if;
end $$
delimiter ;

drop procedure if exists qtopology_sp_check_leader_candidacy;
delimiter $$
create procedure qtopology_sp_check_leader_candidacy(p_name varchar(100))
begin
    declare v_result varchar(10) default '';

    if exists (select 1 from qtopology_worker
               where lstatus = 'candidate' and name = p_name)
        and not exists (select 1 from qtopology_worker
                        where lstatus = 'leader' and name <> p_name)
        and not exists (select 1 from qtopology_worker
                        where lstatus = 'candidate' and name > p_name)
    then
        -- winner: the candidate with the greatest name while no one else leads
        update qtopology_worker
        set lstatus = ''
        where name <> p_name and lstatus <> '';
        update qtopology_worker
        set lstatus = 'leader', last_ping = now()
        where name = p_name;
        set v_result = 'leader';
    else
        -- everybody else steps back to normal
        update qtopology_worker
        set lstatus = '', last_ping = now()
        where name = p_name;
    end if;
    call qtopology_sp_add_worker_history(p_name);

    select v_result as status;
end $$
delimiter ;

drop procedure if exists qtopology_sp_messages_for_worker;
delimiter $$
create procedure qtopology_sp_messages_for_worker(p_name varchar(100))
begin
    -- reading the queue counts as a sign of life
    update qtopology_worker
    set last_ping = now()
    where name = p_name;

    delete from qtopology_message
    where valid_until < now();

    -- the caller deletes the ids it consumed
    select id, cmd, content, created
    from qtopology_message
    where worker = p_name
    order by id;
end $$
delimiter ;

drop procedure if exists qtopology_sp_register_topology;
delimiter $$
create procedure qtopology_sp_register_topology(
    p_uuid varchar(100),
    p_config mediumtext,
    p_weight float,
    p_worker_affinity varchar(200))
begin
    if exists (select 1 from qtopology_topology where uuid = p_uuid) then
        -- re-registration changes the definition only, never the run state
        update qtopology_topology
        set config = p_config, weight = p_weight, worker_affinity = p_worker_affinity
        where uuid = p_uuid;
    else
        -- new topologies start disabled and unassigned
        insert into qtopology_topology
            (uuid, config, status, worker, weight, worker_affinity, last_ping, error, enabled)
        values
            (p_uuid, p_config, 'unassigned', null, p_weight, p_worker_affinity, now(), null, 0);
    end if;
    call qtopology_sp_add_topology_history(p_uuid);
end $$
delimiter ;
