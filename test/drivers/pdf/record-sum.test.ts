// Proves a glyph record's share of the glyf table's checksum (drivers/pdf/font-face.ts recordSum),
// kept per record and per place in a word, is what summing the table's big-endian words gives
// (the OpenType table checksum) for the record alone at that place, zeros around it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Prng } from '../../../core/simulation/prng.ts';
import { recordSum } from '../../../drivers/pdf/font-face.ts';

function tableChecksum(bytes: Uint8Array): number {
  const padded = new Uint8Array((bytes.length + 3) & ~3);
  padded.set(bytes);
  const view = new DataView(padded.buffer);
  let sum = 0;
  for (let offset = 0; offset < padded.length; offset += 4) sum = (sum + view.getUint32(offset)) >>> 0;
  return sum;
}

describe("a glyph record's share of the glyf checksum", () => {
  it('is the sum of the words it fills, wherever in a word it starts, for any length', () => {
    const prng = new Prng(4);
    for (const length of [0, 1, 2, 3, 4, 5, 301, 4096, 70_000]) {
      const record = new Uint8Array(length).map(() => prng.uint32() & 0xff);
      for (let shift = 0; shift < 4; shift += 1) {
        const placed = new Uint8Array(shift + length);
        placed.set(record, shift);
        // Asked twice: the kept value is the one computed.
        assert.equal(recordSum(record, shift), tableChecksum(placed), `${length} bytes at ${shift}`);
        assert.equal(recordSum(record, shift), tableChecksum(placed));
      }
    }
  });
});
