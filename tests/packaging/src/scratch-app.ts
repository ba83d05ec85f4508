import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './pack.js';
import { ROOT } from './workspace.js';

const FIXTURE = new URL('../fixtures/app/', import.meta.url).pathname;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

export interface ScratchApp {
  dir: string;
  /** Runs `node <args>` in the app; never rejects (the exit code is in the result). */
  node(args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `tsc -p <project>` with the workspace's TypeScript; resolves with its output ('' when clean). */
  typecheck(project: string): Promise<string>;
  /** Puts another copy of a package (from its tarball) in `under`/node_modules, as npm does when ranges do not overlap. */
  nest(tarball: string, under: string, name: string): Promise<void>;
  remove(): void;
}

/**
 * A fresh app in the system temp dir (outside the workspace, so nothing
 * resolves through it) with `dependencies` installed by `npm install` from the
 * registry and the given tarballs.
 */
export async function createScratchApp(dependencies: Record<string, string>): Promise<ScratchApp> {
  const dir = mkdtempSync(join(tmpdir(), 'messagebox-scratch-app-'));
  cpSync(FIXTURE, dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'scratch-app', private: true, type: 'module', dependencies }, null, 2)}\n`);
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: dir,
    env: { ...process.env, npm_config_workspaces: 'false', npm_config_user_agent: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const capture = async (file: string, args: string[], env: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await run(file, args, { cwd: dir, env: { ...process.env, NODE_OPTIONS: '', ...env }, maxBuffer: 64 * 1024 * 1024 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof failed.code === 'number' ? failed.code : 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
    }
  };
  return {
    dir,
    node: (args, env) => capture(process.execPath, args, env),
    async typecheck(project) {
      const result = await capture(process.execPath, [TSC, '-p', project]);
      return `${result.stdout}${result.stderr}`.trim();
    },
    async nest(tarball, under, name) {
      const target = join(dir, 'node_modules', under, 'node_modules', name);
      mkdirSync(target, { recursive: true });
      await run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
