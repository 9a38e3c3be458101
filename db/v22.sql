-- Version 22: the two reads of every row (the leader's, each loop) return the
-- rows in table order (id, the order of registration) instead of sorting them
-- by name or uuid. Sorting 10,000 topologies was 60% of the server's work for
-- that read (12.8 ms against 5.2 ms on the benchmark machine; README,
-- Performance); reading the clustered index in id order sorts nothing.
-- Columns are unchanged. Re-runnable: each procedure is dropped first.

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
    order by w.id;
end $$
delimiter ;

drop procedure if exists qtopology_sp_topologies;
delimiter $$
create procedure qtopology_sp_topologies()
begin
    select t.uuid, t.status, t.worker, t.weight, t.worker_affinity, t.enabled,
           unix_timestamp(t.last_ping) as last_ping_unix, t.error, t.pid
    from qtopology_topology t
    order by t.id;
end $$
delimiter ;
