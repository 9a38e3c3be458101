-- Bootstrap: the migrator reads db_version from this table before anything
-- else exists, so it is the only object created outside a versioned file.
-- Safe to run any number of times, also on a database made by the Node package.

create table if not exists qtopology_settings (
    name varchar(100) not null primary key,
    value mediumtext not null
) engine = innodb;

-- '0' means "nothing applied yet"; an existing version is never touched.
insert ignore into qtopology_settings (name, value)
values ('db_version', '0');
