-- messagebox migration 0001_create_outbox_and_inbox for MySQL/MariaDB (tables messagebox_outbox, messagebox_inbox).
-- Generated from migrationSql(); do not edit. Run the files in name order, each once (in a transaction where
-- your tool can); the last statement records the migration, so messagebox migrate() skips it afterwards.

CREATE TABLE IF NOT EXISTS `messagebox_migrations` (`name` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, `applied_at` BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `messagebox_outbox` (
  `id` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `source` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `type` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `payload` LONGTEXT NOT NULL,
  `headers` MEDIUMTEXT NOT NULL,
  `created_at` BIGINT NOT NULL,
  `status` VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `attempts` INT NOT NULL DEFAULT 0,
  `available_at` BIGINT NOT NULL,
  `last_error` MEDIUMTEXT NULL,
  `sent_at` BIGINT NULL,
  `lease_until` BIGINT NULL,
  `claim_token` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
  PRIMARY KEY (`id`),
  KEY `messagebox_outbox_due` (`status`, `available_at`, `lease_until`),
  KEY `messagebox_outbox_sent` (`status`, `sent_at`),
  KEY `messagebox_outbox_status_created` (`status`, `created_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `messagebox_inbox` (
  `id` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `source` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `type` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `payload` LONGTEXT NOT NULL,
  `headers` MEDIUMTEXT NOT NULL,
  `created_at` BIGINT NOT NULL,
  `status` VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  `attempts` INT NOT NULL DEFAULT 0,
  `received_at` BIGINT NOT NULL,
  `available_at` BIGINT NOT NULL,
  `last_error` MEDIUMTEXT NULL,
  `processed_at` BIGINT NULL,
  `lease_until` BIGINT NULL,
  `claim_token` VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NULL,
  PRIMARY KEY (`source`, `id`),
  KEY `messagebox_inbox_due` (`status`, `available_at`, `lease_until`),
  KEY `messagebox_inbox_processed` (`status`, `processed_at`),
  KEY `messagebox_inbox_status_received` (`status`, `received_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT INTO `messagebox_migrations` (name, applied_at) SELECT '0001_create_outbox_and_inbox', 0 WHERE NOT EXISTS (SELECT 1 FROM `messagebox_migrations` WHERE name = '0001_create_outbox_and_inbox');
