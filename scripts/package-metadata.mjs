// Normalises packages/*/package.json to what the packaging check (tests/packaging) asks of a public
// package: metadata, exports with a default condition, publishConfig without the source condition,
// files with LICENSE and CHANGELOG, workspace:^ internal ranges, caret peer ranges. Run it after
// adding a package: `node scripts/package-metadata.mjs` (then copy LICENSE and add a CHANGELOG.md). It keeps
// what a package adds: subpath exports (mirrored in publishConfig) and extra `files` entries. On the
// packages as committed it changes nothing (tests/packaging/test/package-metadata.test.ts).
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
const REPO = 'https://github.com/messagebox/messagebox';
const keywordsOf = {
  core: ['outbox', 'inbox', 'transactional-outbox', 'inbox-pattern', 'messaging', 'webhooks', 'standard-webhooks'],
  cli: ['outbox', 'inbox', 'cli', 'dead-letter', 'cron', 'worker'],
  express: ['outbox', 'inbox', 'express', 'webhooks'],
  hono: ['outbox', 'inbox', 'hono', 'webhooks'],
  kysely: ['outbox', 'inbox', 'kysely', 'sql'],
  mysql: ['outbox', 'inbox', 'mysql', 'mariadb', 'mysql2', 'kysely'],
  opentelemetry: ['outbox', 'inbox', 'opentelemetry', 'tracing', 'metrics'],
  postgres: ['outbox', 'inbox', 'postgres', 'postgresql', 'pg', 'kysely'],
  sqlite: ['outbox', 'inbox', 'sqlite', 'better-sqlite3', 'kysely'],
  testkit: ['outbox', 'inbox', 'testing', 'conformance', 'vitest'],
  'transport-amqp': ['outbox', 'inbox', 'rabbitmq', 'amqp', 'transport'],
  'transport-http': ['outbox', 'inbox', 'http', 'webhooks', 'standard-webhooks', 'transport', 'undici'],
  'transport-nats': ['outbox', 'inbox', 'nats', 'jetstream', 'transport'],
  dashboard: ['outbox', 'inbox', 'dashboard', 'dead-letter', 'hono', 'operations'],
};
const peerRanges = {
  'better-sqlite3': '^12.4.0', vitest: '^4.1.0', hono: '^4.9.0', pg: '^8.16.0', mysql2: '^3.15.0', amqplib: '^2.3.1',
  '@nats-io/jetstream': '^3.4.0', '@nats-io/transport-node': '^3.4.0', express: '^4.22.0 || ^5.1.0', kysely: '^0.28.19', '@opentelemetry/api': '^1.9.0',
};
const STANDARD_FILES = ['dist', 'src', 'README.md', 'CHANGELOG.md', 'LICENSE'];
/** Every entry of an exports map but `.` (a string or conditions object), as it is. */
const subpathExports = (exports) => (exports && typeof exports === 'object' ? Object.fromEntries(Object.entries(exports).filter(([key]) => key !== '.')) : {});
/** The exports map as published: each entry without the `@messagebox/source` condition. */
const withoutSourceCondition = (exports) =>
  Object.fromEntries(Object.entries(exports).map(([key, entry]) => [key, typeof entry === 'object' && entry !== null ? Object.fromEntries(Object.entries(entry).filter(([condition]) => condition !== '@messagebox/source')) : entry]));
for (const dir of readdirSync('packages')) {
  const file = `packages/${dir}/package.json`;
  if (JSON.parse(readFileSync(file, 'utf8')).private) continue;
  const pkg = JSON.parse(readFileSync(file, 'utf8'));
  const out = {};
  const put = (k, v) => { if (v !== undefined) out[k] = v; };
  put('name', pkg.name); put('version', pkg.version); put('description', pkg.description);
  put('keywords', keywordsOf[dir] ?? ['outbox', 'inbox']);
  put('homepage', `${REPO}/tree/main/packages/${dir}#readme`);
  put('bugs', { url: `${REPO}/issues` });
  put('repository', { type: 'git', url: `git+${REPO}.git`, directory: `packages/${dir}` });
  put('license', 'MIT');
  put('sideEffects', false);
  put('type', 'module');
  put('engines', pkg.engines);
  // Subpath exports (`./fetch`, `./app`) are kept as they are, after the normalised `.`; publishConfig mirrors them without the source condition.
  const exportsMap = { '.': { '@messagebox/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' }, ...subpathExports(pkg.exports) };
  put('exports', exportsMap);
  put('main', './dist/index.js');
  put('types', './dist/index.d.ts');
  // Extra shipped paths (`page`, `migrations`, `bin`) are kept, in their order, between `src` and the docs.
  const extraFiles = (pkg.files ?? []).filter((f) => !STANDARD_FILES.includes(f));
  if (pkg.bin && !extraFiles.includes('bin')) extraFiles.push('bin');
  put('files', ['dist', 'src', ...extraFiles, 'README.md', 'CHANGELOG.md', 'LICENSE']);
  put('bin', pkg.bin);
  put('publishConfig', { ...pkg.publishConfig, access: 'public', exports: withoutSourceCondition(exportsMap) });
  for (const [k, v] of Object.entries(pkg)) if (!(k in out) && !['publishConfig'].includes(k)) out[k] = v;
  if (out.dependencies) for (const [k, v] of Object.entries(out.dependencies)) if (v === 'workspace:*') out.dependencies[k] = 'workspace:^';
  if (out.peerDependencies) for (const k of Object.keys(out.peerDependencies)) { if (peerRanges[k]) out.peerDependencies[k] = peerRanges[k]; }
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
}
