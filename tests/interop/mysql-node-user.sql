-- Run by docker-compose.yml's MySQL 8.4 on its first start: the one account
-- with mysql_native_password, for the Node package, whose mysql driver cannot
-- do caching_sha2_password (every other account keeps MySQL's default). A
-- throwaway test server's account: all privileges, a known password.
CREATE USER 'qtopology_node'@'%' IDENTIFIED WITH mysql_native_password BY 'qtopology';
GRANT ALL PRIVILEGES ON *.* TO 'qtopology_node'@'%';
