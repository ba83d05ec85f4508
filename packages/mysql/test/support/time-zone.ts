import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'mysql2';
import { adminUrl } from './test-database.js';

/**
 * Makes the named time zone usable in `SET time_zone` on the test server,
 * loading it from the system's zoneinfo with `mariadb-tzinfo-to-sql` when the
 * server's time zone tables do not have it (they are empty on a fresh
 * install). Resolves with why it could not, or null when the zone is there.
 */
export async function ensureTimeZone(zone: string): Promise<string | null> {
  const connection = createConnection({ uri: adminUrl, multipleStatements: true }).promise();
  try {
    const known = async () => {
      const [rows] = await connection.query('select convert_tz(?, ?, ?) as t', ['2000-01-01 00:00:00', '+00:00', zone]);
      return (rows as { t: unknown }[])[0]?.t !== null;
    };
    if (await known()) return null;
    const file = `/usr/share/zoneinfo/${zone}`;
    if (!existsSync(file)) return `${file} does not exist`;
    const tool = ['mariadb-tzinfo-to-sql', 'mysql_tzinfo_to_sql'].find((name) => spawnSync(name, ['--help']).error === undefined);
    if (!tool) return 'neither mariadb-tzinfo-to-sql nor mysql_tzinfo_to_sql is installed';
    const out = spawnSync(tool, [file, zone], { encoding: 'utf8' });
    if (out.status !== 0) return `${tool} failed: ${out.stderr}`;
    await connection.query(`use mysql; ${out.stdout}`);
    return (await known()) ? null : `the server still does not know ${zone} after loading it`;
  } finally {
    await connection.end();
  }
}
