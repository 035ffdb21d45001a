// SHA-256 through node:crypto on both runtimes. The one-shot crypto.hash (Node ≥ 20.12, Bun) is
// 1.7× (Node) to 3× (Bun) faster than createHash for short inputs, which is what an audit-log
// verify spends its time on; createHash stays as the fallback. Neither keeps its input, so callers
// may reuse the buffer they pass (core/merkle.ts relies on that).

import crypto from 'node:crypto';

type OneShotHash = (algorithm: string, data: Uint8Array, outputEncoding: 'buffer' | 'hex') => Buffer | string;
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

export const sha256: (data: Uint8Array) => Uint8Array = oneShot
  ? (data) => oneShot('sha256', data, 'buffer') as Buffer
  : (data) => crypto.createHash('sha256').update(data).digest();

export function sha256Hex(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}
