import { packageTestConfig } from '../../vitest.shared.js';

export default packageTestConfig({ timeoutMs: 300_000 });
