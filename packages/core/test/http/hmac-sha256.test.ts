import { createHmac, randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { createHmacSha256 } from '../../src/http/hmac-sha256.js';

it('node:crypto and WebCrypto give the same base64 HMAC-SHA256 of prefix + body (bytes or string), equal to a reference', async () => {
  for (let i = 0; i < 20; i++) {
    const secret = randomBytes(16 + i);
    const content = randomBytes(i * 97);
    const text = `{"note":"é ${'x'.repeat(i * 13)} \ud83d\ude00 \ud800"}`;
    const prefix = `msg_${i}.1767225600.`;
    const [viaNode] = await createHmacSha256([secret]);
    const [viaWebCrypto] = await createHmacSha256([secret], { webCrypto: true });
    const reference = createHmac('sha256', secret).update(Buffer.concat([Buffer.from(prefix), content])).digest('base64');
    const referenceText = createHmac('sha256', secret).update(Buffer.from(new TextEncoder().encode(prefix + text))).digest('base64');
    expect(await viaNode!(prefix, content)).toBe(reference);
    expect(await viaWebCrypto!(prefix, content)).toBe(reference);
    expect(await viaNode!(prefix, text)).toBe(referenceText);
    expect(await viaWebCrypto!(prefix, text)).toBe(referenceText);
  }
});
