// Deflate (RFC 1951) and zlib streams (RFC 1950) for the PDFs drivers/pdf/pdf-recorder.ts writes.
// node:zlib's synchronous calls build a stream object (Transform, handle, buffers) every time:
// under Bun that was about 13 µs of the 30 µs a page's operators took to compress. Bun.deflateSync
// runs the same zlib with the same settings without it, and gives the same bytes
// (test/drivers/pdf/deflate.test.ts); so under Bun a zlib stream is put together here, from the
// header, Bun's raw deflate and Bun's Adler-32 (docs/runtime-facts.md, "PDF and fonts"). Node
// keeps node:zlib. A part that must end in a sync flush (to have other parts follow it) is rare
// (cached) and always goes to node:zlib, which alone offers the flush.

import { constants, deflateRawSync, deflateSync } from 'node:zlib';

/** zlib's fastest level: what each certificate compresses afresh. */
export const FASTEST = constants.Z_BEST_SPEED;
/** zlib's default level (6): what is compressed once and kept. */
export const DEFAULT_LEVEL = 6;

const onBun = typeof Bun !== 'undefined';

/** The bytes as one zlib stream, as zlib's deflate at this level writes it. */
export function zlibDeflate(bytes: Uint8Array, level: number): Uint8Array {
  if (!onBun) return deflateSync(bytes, { level });
  const raw = Bun.deflateSync(bytes as Uint8Array<ArrayBuffer>, { level: level as 1 });
  const stream = new Uint8Array(2 + raw.length + 4);
  stream.set(zlibHeader(level), 0);
  stream.set(raw, 2);
  new DataView(stream.buffer).setUint32(stream.length - 4, Bun.hash.adler32(bytes));
  return stream;
}

/** The bytes as raw deflate blocks, the last one final, as zlib's deflate at this level writes them. */
export function rawDeflate(bytes: Uint8Array, level: number): Uint8Array {
  return onBun ? Bun.deflateSync(bytes as Uint8Array<ArrayBuffer>, { level: level as 1 }) : deflateRawSync(bytes, { level });
}

/** The bytes as raw deflate blocks ending in a sync flush (a byte-aligned, non-final empty block), so that other parts may follow. */
export function rawDeflateFlushed(bytes: Uint8Array, level: number): Uint8Array {
  return deflateRawSync(bytes, { level, finishFlush: constants.Z_SYNC_FLUSH });
}

/**
 * CMF 0x78 (deflate, 32 KB window) and FLG with zlib's FLEVEL for the level (0: fastest, 1: fast,
 * 2: default, 3: best), its check bits making the pair a multiple of 31 (RFC 1950 §2.2).
 */
export function zlibHeader(level: number): Uint8Array {
  const effective = level < 0 ? DEFAULT_LEVEL : level;
  const flevel = effective <= 1 ? 0 : effective <= 5 ? 1 : effective === 6 ? 2 : 3;
  let flag = flevel << 6;
  flag += (31 - ((0x78 * 256 + flag) % 31)) % 31;
  return Uint8Array.of(0x78, flag);
}
