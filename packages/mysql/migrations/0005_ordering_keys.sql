-- messagebox migration 0005_ordering_keys for MySQL/MariaDB (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS `messagebox_migrations` (`name` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, `applied_at` BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

ALTER TABLE `messagebox_outbox` ADD COLUMN `order_key` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL, ADD COLUMN `order_seq` BIGINT NOT NULL AUTO_INCREMENT, ADD KEY `messagebox_outbox_order_seq` (`order_seq`), ADD KEY `messagebox_outbox_key_order` (`order_key`, `status`, `order_seq`);

ALTER TABLE `messagebox_inbox` ADD COLUMN `order_key` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL, ADD COLUMN `order_seq` BIGINT NOT NULL AUTO_INCREMENT, ADD KEY `messagebox_inbox_order_seq` (`order_seq`), ADD KEY `messagebox_inbox_key_order` (`source`, `order_key`, `status`, `order_seq`);

INSERT INTO `messagebox_migrations` (name, applied_at) SELECT '0005_ordering_keys', 0 WHERE NOT EXISTS (SELECT 1 FROM `messagebox_migrations` WHERE name = '0005_ordering_keys');
