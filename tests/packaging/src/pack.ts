import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, type WorkspacePackage } from './workspace.js';

export const run = promisify(execFile);

/**
 * Builds every package under packages/* in dependency order (`pnpm -r`, not
 * turbo: this runs inside turbo's test task, and a nested turbo run waits on
 * the outer one).
 */
export async function buildPackages(packages: readonly WorkspacePackage[]): Promise<void> {
  const stale = packages.filter((pkg) => !isBuilt(pkg.dir));
  if (stale.length === 0) return;
  const filters = stale.map((pkg) => `--filter=${pkg.name}`);
  await run('pnpm', ['--recursive', ...filters, '--workspace-concurrency=2', 'run', 'build'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
}

/** Whether dist/ is newer than every file in src/ and the package's tsconfig files (a rerun skips what is built). */
function isBuilt(dir: string): boolean {
  const built = join(dir, 'dist', 'index.js');
  if (!existsSync(built)) return false;
  const builtAt = statSync(built).mtimeMs;
  const inputs = [join(dir, 'package.json'), join(dir, 'tsconfig.build.json'), ...readdirSync(join(dir, 'src'), { recursive: true }).map((f) => join(dir, 'src', String(f)))];
  return inputs.every((file) => !existsSync(file) || statSync(file).mtimeMs <= builtAt);
}

export interface Tarball {
  pkg: WorkspacePackage;
  file: string;
}

/** `pnpm pack` of each package into `destination` (pnpm applies publishConfig and turns workspace: ranges into real ones). */
export async function packAll(packages: readonly WorkspacePackage[], destination: string): Promise<Tarball[]> {
  mkdirSync(destination, { recursive: true });
  const tarballs: Tarball[] = [];
  for (const pkg of packages) {
    const { stdout } = await run('pnpm', ['pack', '--pack-destination', destination, '--json'], { cwd: pkg.dir, maxBuffer: 16 * 1024 * 1024 });
    const file = (JSON.parse(stdout) as { filename: string }).filename;
    tarballs.push({ pkg, file: file.startsWith('/') ? file : join(destination, file) });
  }
  return tarballs;
}

/** The package.json inside a tarball. */
export async function manifestOf(tarball: string): Promise<Record<string, unknown>> {
  const { stdout } = await run('tar', ['-xzOf', tarball, 'package/package.json'], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout);
}

/** The file names inside a tarball, without the leading `package/`. */
export async function filesOf(tarball: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tzf', tarball], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.split('\n').filter(Boolean).map((line) => line.replace(/^package\//, ''));
}

/** A copy of `tarball` whose package.json says `version` (e.g. core as 0.1.1 beside adapters packed at 0.1.0). */
export async function repackWithVersion(tarball: string, version: string, destination: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'messagebox-repack-'));
  try {
    await run('tar', ['-xzf', tarball, '-C', work]);
    const file = join(work, 'package', 'package.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    manifest.version = version;
    writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
    const name = `${String(manifest.name).replace('@', '').replace('/', '-')}-${version}.tgz`;
    await run('tar', ['-czf', join(work, name), '-C', work, 'package']);
    renameSync(join(work, name), join(destination, name));
    return join(destination, name);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
