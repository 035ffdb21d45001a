// The runtime's base64 the centre answers with is the same text as core's pure encoder, for every
// length remainder and for a view into a larger buffer (a PDF is often a subarray of a pool).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base64Decode, base64Encode as pureBase64Encode } from '../../../core/bytes.ts';
import { base64Encode } from '../../../drivers/bytes/base64.ts';

describe('native base64', () => {
  it('matches core/bytes.ts for lengths 0 to 300 and for views at an offset', () => {
    const pool = new Uint8Array(400).map((_, index) => (index * 151 + 7) & 0xff);
    for (let length = 0; length <= 300; length += 1) {
      for (const offset of [0, 1, 5]) {
        const view = pool.subarray(offset, offset + length);
        assert.equal(base64Encode(view), pureBase64Encode(view), `length ${length} at offset ${offset}`);
      }
    }
    assert.deepEqual(base64Decode(base64Encode(pool.subarray(3, 103))), pool.subarray(3, 103));
  });
});
