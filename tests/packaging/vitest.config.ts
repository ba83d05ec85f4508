import { packageTestConfig } from '../../vitest.shared.js';

export default packageTestConfig({ timeoutMs: 240_000 });
