-- messagebox migration 0006_destination_states for MySQL/MariaDB (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS `messagebox_migrations` (`name` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, `applied_at` BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `messagebox_destinations` (
  `destination` VARCHAR(255) NOT NULL,
  `worker` VARCHAR(255) NOT NULL,
  `breaker` VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `consecutive_failures` INT NOT NULL,
  `open_until` BIGINT NULL,
  `paused_until` BIGINT NULL,
  `updated_at` BIGINT NOT NULL,
  PRIMARY KEY (`destination`, `worker`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO `messagebox_migrations` (name, applied_at) SELECT '0006_destination_states', 0 WHERE NOT EXISTS (SELECT 1 FROM `messagebox_migrations` WHERE name = '0006_destination_states');
