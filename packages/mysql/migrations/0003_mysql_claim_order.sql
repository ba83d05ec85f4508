-- messagebox migration 0003_mysql_claim_order for MySQL/MariaDB (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS `messagebox_migrations` (`name` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, `applied_at` BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE `messagebox_outbox` ADD KEY `messagebox_outbox_claim` (`status`, `available_at`, `id`, `lease_until`), DROP KEY `messagebox_outbox_due`;

ALTER TABLE `messagebox_inbox` ADD KEY `messagebox_inbox_claim` (`status`, `available_at`, `id`, `lease_until`), DROP KEY `messagebox_inbox_due`;

INSERT INTO `messagebox_migrations` (name, applied_at) SELECT '0003_mysql_claim_order', 0 WHERE NOT EXISTS (SELECT 1 FROM `messagebox_migrations` WHERE name = '0003_mysql_claim_order');
