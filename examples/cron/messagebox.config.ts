// Read by the `messagebox` command (migrate, resend, status, dead, purge, worker).
import { defineConfig } from '@messagebox/cli';
import { openVault } from './src/vault.js';

export default defineConfig(() => {
  const vault = openVault();
  return { outbox: vault.outbox, migrate: vault.migrate, close: vault.close };
});
