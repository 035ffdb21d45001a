// Proves base64Encode gives the standard encoding (as node:buffer does) at every length and across its chunk boundary, and base64Decode reverses it; and hex both ways, every byte value, in either case.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base64Decode, base64Encode, hexDecode, hexEncode } from '../../core/bytes.ts';

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

describe('hexEncode and hexDecode', () => {
  it('write every byte value as node:buffer does and read it back, from lowercase and uppercase', () => {
    const every = Uint8Array.from({ length: 256 }, (_, value) => value);
    for (const bytes of [new Uint8Array(0), every, bytesOf(33), every.subarray(7, 40)]) {
      const hex = hexEncode(bytes);
      assert.equal(hex, Buffer.from(bytes).toString('hex'));
      assert.deepEqual(hexDecode(hex), Uint8Array.from(bytes));
      assert.deepEqual(hexDecode(hex.toUpperCase()), Uint8Array.from(bytes));
    }
  });
});
