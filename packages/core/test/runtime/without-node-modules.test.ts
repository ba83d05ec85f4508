import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
const entry = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
let dir: string;
let bundle: string;
const imported: string[] = [];

/** Fails the build on any Node built-in, as a Workers bundle without `nodejs_compat` would. */
const noNodeModules: Plugin = {
  name: 'no-node-modules',
  setup(b) {
    const builtins = new Set(builtinModules);
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.path.startsWith('node:') || builtins.has(args.path)) {
        imported.push(`${args.path} (from ${args.importer})`);
        return { errors: [{ text: `a Node built-in: ${args.path}` }] };
      }
      return undefined;
    });
  },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'messagebox-core-bundle-'));
  bundle = join(dir, 'core.mjs');
  // The conditions wrangler resolves for Cloudflare Workers.
  await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'neutral', conditions: ['workerd', 'worker', 'browser'], mainFields: ['module', 'main'], outfile: bundle, plugins: [noNodeModules], logLevel: 'silent' }).catch(
    (error: unknown) => {
      throw new Error(`core does not bundle without node: modules: ${imported.join(', ')}`, { cause: error });
    },
  );
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('core bundles for a runtime without node: modules (no node: import anywhere in it or its dependencies)', () => {
  expect(imported).toEqual([]);
});

it('the bundle signs, verifies, sends and receives with no `process` at all (WebCrypto path)', async () => {
  const script = `
    Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true });
    const core = await import(${JSON.stringify(bundle)});
    const inboxStore = core.createMemoryInboxStore();
    const inbox = core.createInbox({ store: inboxStore });
    const handled = [];
    inbox.on('payment.created', async (message) => { handled.push(message.payload); });
    const secret = core.generateWebhookSecret();
    const handle = core.createInboxRequestHandler(inbox, { secret });
    const signer = core.createWebhookSigner({ secret });
    const transport = {
      name: 'fetch-handler',
      async send(message) {
        const { headers, body } = await core.encodeWebhookRequest(message, { signer, now: Date.now() });
        const response = await handle(new Request('http://inbox.test/inbox', { method: 'POST', headers, body }));
        if (response.status >= 300) throw new core.TransportError('status ' + response.status, { status: response.status, retryable: false });
      },
    };
    const outbox = core.createOutbox({ store: core.createMemoryOutboxStore(), source: 'worker' }).configure('payment.created', { transport });
    await outbox.transaction((tx) => outbox.add(tx, { type: 'payment.created', payload: { amount: 7 } }));
    await outbox.idle();
    await inbox.start();
    for (let i = 0; i < 500 && handled.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await inbox.stop();
    const forged = await handle(new Request('http://inbox.test/inbox', { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': 'x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' }, body: '{}' }));
    console.log(JSON.stringify({ handled, forged: forged.status }));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
  expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ handled: [{ amount: 7 }], forged: 401 });
});
