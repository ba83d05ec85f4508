-- messagebox migration 0004_operations_indexes for MySQL/MariaDB (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.
-- Nothing changes for MySQL/MariaDB: the file only records the migration.

CREATE TABLE IF NOT EXISTS `messagebox_migrations` (`name` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, `applied_at` BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO `messagebox_migrations` (name, applied_at) SELECT '0004_operations_indexes', 0 WHERE NOT EXISTS (SELECT 1 FROM `messagebox_migrations` WHERE name = '0004_operations_indexes');
