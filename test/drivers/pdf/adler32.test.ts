// Proves the certificate file's Adler-32 (drivers/pdf/pdf-recorder.ts), summed in parts and joined
// with adler32Combine so a layout's cached glyph records are not summed again for every file, is
// zlib's own checksum of the whole: zlib's deflate ends its stream with the Adler-32 of its input
// (RFC 1950 §2.2), an oracle that shares no code with ours. The table directory stored uncompressed
// in front of the cached part is read back by zlib's inflate, another such oracle.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constants, deflateRawSync, deflateSync, inflateRawSync } from 'node:zlib';
import { Prng } from '../../../core/simulation/prng.ts';
import { adler32, adler32Combine, storedBlocks } from '../../../drivers/pdf/pdf-recorder.ts';

function zlibAdler32(bytes: Uint8Array): number {
  const stream = deflateSync(bytes);
  return new DataView(stream.buffer, stream.byteOffset + stream.length - 4, 4).getUint32(0);
}

function bytesOf(prng: Prng, length: number, fill?: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index += 1) bytes[index] = fill ?? (prng.uint32() & 0xff);
  return bytes;
}

describe('Adler-32 of a certificate file in parts', () => {
  it('sums as zlib does, at and around the lengths where zlib reduces its sums', () => {
    const prng = new Prng(20261202);
    for (const length of [0, 1, 2, 5551, 5552, 5553, 65520, 65521, 65522, 200_000]) {
      for (const fill of [undefined, 0x00, 0xff]) {
        const bytes = bytesOf(prng, length, fill);
        assert.equal(adler32(bytes), zlibAdler32(bytes), `${length} bytes of ${fill ?? 'random'}`);
      }
    }
  });

  it('joins the sums of three parts into the sum of the whole, whatever their lengths', () => {
    const prng = new Prng(7);
    const lengths = [0, 1, 3, 4095, 65520, 65521, 65522, 131_043, 140_000];
    for (let trial = 0; trial < 60; trial += 1) {
      const parts = [0, 1, 2].map(() => bytesOf(prng, lengths[prng.int(0, lengths.length - 1)]!, trial % 3 === 0 ? 0xff : undefined));
      const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
      let offset = 0;
      for (const part of parts) {
        whole.set(part, offset);
        offset += part.length;
      }
      const [head, middle, tail] = parts as [Uint8Array, Uint8Array, Uint8Array];
      const joined = adler32Combine(adler32Combine(adler32(head), adler32(middle), middle.length), adler32(tail), tail.length);
      assert.equal(joined, zlibAdler32(whole), `parts of ${parts.map((part) => part.length).join(', ')} bytes`);
    }
  });

  it("stores bytes as deflate blocks that zlib's inflate reads back, before a sync-flushed and a final compressed part", () => {
    const prng = new Prng(11);
    for (const length of [0, 1, 156, 65_535, 65_536, 140_000]) {
      const stored = bytesOf(prng, length);
      const middle = bytesOf(prng, 3000, 0x41);
      const tail = bytesOf(prng, 500);
      const stream = Buffer.concat([storedBlocks(stored), deflateRawSync(middle, { finishFlush: constants.Z_SYNC_FLUSH }), deflateRawSync(tail)]);
      assert.deepEqual(new Uint8Array(inflateRawSync(stream)), new Uint8Array(Buffer.concat([stored, middle, tail])), `${length} bytes stored`);
      assert.equal(storedBlocks(stored).length, length + 5 * Math.max(1, Math.ceil(length / 65_535)));
    }
  });
});
