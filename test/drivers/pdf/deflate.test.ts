// Proves the certificate's deflate helpers (drivers/pdf/deflate.ts) give what node:zlib gives: under
// Bun, where a zlib stream is put together from Bun.deflateSync and Bun.hash.adler32, the same
// bytes as node:zlib's deflateSync at the same level (so the files' pinned hashes stand); on both
// runtimes, streams that zlib's inflate reads back to the input, a header that is a multiple of
// 31 with zlib's level bits, and raw parts that join as deflate blocks do.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deflateRawSync, deflateSync, inflateRawSync, inflateSync } from 'node:zlib';
import { Prng } from '../../../core/simulation/prng.ts';
import { DEFAULT_LEVEL, FASTEST, rawDeflate, rawDeflateFlushed, zlibDeflate, zlibHeader } from '../../../drivers/pdf/deflate.ts';

/** Operators-like text (repetitive) or random bytes (incompressible), of a length. */
function sample(prng: Prng, length: number, text: boolean): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index += 1) bytes[index] = text ? ' 0123456789.TJTfBTET[]<>'.charCodeAt(prng.int(0, 23)) : prng.uint32() & 0xff;
  return bytes;
}

describe('deflating a certificate', () => {
  it('writes the bytes node:zlib writes, zlib streams and raw deflate, at the fastest and the default level', () => {
    const prng = new Prng(20261202);
    for (const length of [0, 1, 150, 6_653, 70_000]) {
      for (const text of [true, false]) {
        const bytes = sample(prng, length, text);
        for (const level of [FASTEST, DEFAULT_LEVEL]) {
          const what = `${length} ${text ? 'text' : 'random'} bytes at level ${level}`;
          assert.deepEqual(new Uint8Array(zlibDeflate(bytes, level)), new Uint8Array(deflateSync(bytes, { level })), what);
          assert.deepEqual(new Uint8Array(rawDeflate(bytes, level)), new Uint8Array(deflateRawSync(bytes, { level })), what);
          assert.deepEqual(new Uint8Array(inflateSync(zlibDeflate(bytes, level))), bytes, what);
        }
      }
    }
  });

  it('heads a zlib stream with zlib header bits for each level, a multiple of 31', () => {
    for (let level = -1; level <= 9; level += 1) {
      const header = zlibHeader(level);
      assert.equal(header[0], 0x78);
      assert.equal((header[0]! * 256 + header[1]!) % 31, 0, `level ${level}`);
      // zlib's own header at this level (deflateSync writes it), FLEVEL included.
      assert.deepEqual([...header], [...deflateSync(new Uint8Array(8), { level }).subarray(0, 2)], `level ${level}`);
    }
  });

  it('ends a flushed part where another may follow: parts joined inflate to the parts joined', () => {
    const prng = new Prng(9);
    const parts = [sample(prng, 3000, true), sample(prng, 300, false), sample(prng, 0, true), sample(prng, 2000, true)];
    const stream = Buffer.concat([...parts.slice(0, -1).map((part) => rawDeflateFlushed(part, DEFAULT_LEVEL)), rawDeflate(parts.at(-1)!, FASTEST)]);
    assert.deepEqual(new Uint8Array(inflateRawSync(stream)), new Uint8Array(Buffer.concat(parts)));
  });
});
