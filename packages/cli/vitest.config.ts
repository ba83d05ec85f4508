import { mergeConfig } from 'vitest/config';
import { packageTestConfig } from '../../vitest.shared.js';

// The tests start real CLI processes; running their files one at a time keeps
// the machine from being overloaded, which would only make them slower.
export default mergeConfig(packageTestConfig({ timeoutMs: 120_000 }), { test: { fileParallelism: false } });
