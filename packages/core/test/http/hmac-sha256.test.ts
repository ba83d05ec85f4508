import { createHmac, randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { createHmacSha256 } from '../../src/http/hmac-sha256.js';

it('node:crypto and WebCrypto give the same HMAC-SHA256, equal to a reference', async () => {
  for (let i = 0; i < 20; i++) {
    const secret = randomBytes(16 + i);
    const content = randomBytes(i * 97);
    const [viaNode] = await createHmacSha256([secret]);
    const [viaWebCrypto] = await createHmacSha256([secret], { webCrypto: true });
    const reference = createHmac('sha256', secret).update(content).digest('hex');
    expect(Buffer.from(await viaNode!(content)).toString('hex')).toBe(reference);
    expect(Buffer.from(await viaWebCrypto!(content)).toString('hex')).toBe(reference);
  }
});
