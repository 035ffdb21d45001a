// Proves base64Encode gives the standard encoding (as node:buffer does) at every length and across its chunk boundary, and base64Decode reverses it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base64Decode, base64Encode } from '../../core/bytes.ts';

const bytesOf = (length: number) => Uint8Array.from({ length }, (_, index) => (index * 131 + (index >> 8)) & 0xff);

describe('base64Encode', () => {
  it('encodes as node:buffer does, padding included, at lengths around the 3-byte groups and the chunk size', () => {
    for (const length of [0, 1, 2, 3, 4, 5, 0x3000 - 1, 0x3000, 0x3000 + 1, 100_003]) {
      const bytes = bytesOf(length);
      assert.equal(base64Encode(bytes), Buffer.from(bytes).toString('base64'), `length ${length}`);
      assert.deepEqual(base64Decode(base64Encode(bytes)), bytes, `length ${length}`);
    }
  });
});
