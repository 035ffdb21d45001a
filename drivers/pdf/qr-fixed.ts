// A QR encoder for the one symbol the centre draws on every certificate copy: version 13, level M,
// mask 0, one byte-mode segment (drivers/pdf/seal-blanks.ts, docs/documents.md). npm qrcode's
// general encoder spent about 8.6% of the centre's main thread building it; for a fixed shape
// almost all of that work is the same every time. The function modules (finders, separators,
// timing, alignment, format and version information) depend only on the shape, so they are read
// once from a symbol qrcode draws, and so is where each data module is; per input only the data
// codewords, their Reed-Solomon error correction and the masked data modules are computed.
// test/drivers/pdf/qr-fixed.test.ts compares every module with qrcode's for every length and for
// random and real notes.

import { create as createQrCode } from 'qrcode';
import { AppError } from '../../core/errors.ts';
import { QR_LEVEL, QR_MASK, QR_VERSION, QUIET_MODULES, SEAL_IMAGE_SIZE } from './seal-blanks.ts';

/** Modules along each side of the symbol (the seal image less its light margin). */
export const SEAL_QR_SIZE = SEAL_IMAGE_SIZE - 2 * QUIET_MODULES;

/**
 * Version 13-M's error correction: 9 blocks of 22 codewords each (the two numbers QR tables give
 * per version and level; every other count below follows from them and the symbol).
 */
const BLOCK_COUNT = 9;
const CORRECTION_CODEWORDS_PER_BLOCK = 22;

/** Byte mode's indicator, and its character count's width for versions 10 to 26. */
const BYTE_MODE_INDICATOR = 0b0100;
const CHARACTER_COUNT_BITS = 16;
const HEADER_BITS = 4 + CHARACTER_COUNT_BITS;
/** The pad codewords that fill the data capacity, alternately. */
const PAD_CODEWORDS = [0xec, 0x11] as const;

/**
 * The codewords are computed in block order: the data codewords as the bit stream gives them,
 * then block 0's error correction, block 1's, and so on. The symbol carries them interleaved
 * (column by column across the blocks); that reordering is folded into where each bit goes.
 */
interface SymbolLayout {
  /** The symbol with its function modules set and every data module light. */
  functionModules: Uint8Array;
  /** For each bit of the codewords in block order, the index (row × size + column) of its module. */
  moduleOfBit: Uint16Array;
  /** Mask 0 at that module: 1 where (row + column) is even, which flips the bit. */
  maskOfBit: Uint8Array;
  totalCodewords: number;
  dataCodewords: number;
  /** Bytes the one segment can hold: what fits after its header and a four-bit terminator. */
  capacityBytes: number;
  /** Data codewords of each block; the last blocks hold one more where the count does not divide. */
  blockSizes: number[];
  /**
   * products[factor × 22 + coefficient]: the generator's coefficients (after its leading 1) times
   * factor in GF(256). One factor's 22 products are adjacent, which made the division nearly
   * twice as fast under Bun as a table by coefficient.
   */
  generatorProducts: Uint8Array;
}

let layout: SymbolLayout | undefined;

/** The module matrix of the seal's QR code for these bytes, row-major, 1 dark; the same as qrcode draws. */
export function sealQrModules(data: Uint8Array): Uint8Array {
  const symbol = (layout ??= symbolLayout());
  if (data.length > symbol.capacityBytes) {
    throw new AppError('internal', 'document.qr_too_long', `${data.length} bytes do not fit a version ${QR_VERSION}-${QR_LEVEL} QR code (at most ${symbol.capacityBytes})`);
  }
  const codewords = new Uint8Array(symbol.totalCodewords);
  writeDataCodewords(data, codewords, symbol.dataCodewords);
  let blockStart = 0;
  symbol.blockSizes.forEach((size, block) => {
    writeCorrection(codewords, blockStart, size, symbol.dataCodewords + block * CORRECTION_CODEWORDS_PER_BLOCK, symbol.generatorProducts);
    blockStart += size;
  });
  const modules = symbol.functionModules.slice();
  const { moduleOfBit, maskOfBit } = symbol;
  for (let bitIndex = 0; bitIndex < moduleOfBit.length; bitIndex += 1) {
    const bit = (codewords[bitIndex >> 3]! >> (7 - (bitIndex & 7))) & 1;
    modules[moduleOfBit[bitIndex]!] = bit ^ maskOfBit[bitIndex]!;
  }
  return modules;
}

/**
 * The bit stream as codewords: mode, count, the bytes, a terminator of four zero bits, pad
 * codewords. The header is 20 bits, so every byte straddles two codewords; the terminator
 * completes the last one, which is why no other padding to a byte boundary is ever needed.
 */
function writeDataCodewords(data: Uint8Array, codewords: Uint8Array, dataCodewords: number): void {
  codewords[0] = (BYTE_MODE_INDICATOR << 4) | (data.length >> 12);
  codewords[1] = (data.length >> 4) & 0xff;
  let pendingNibble = data.length & 0x0f;
  for (let index = 0; index < data.length; index += 1) {
    const byte = data[index]!;
    codewords[2 + index] = (pendingNibble << 4) | (byte >> 4);
    pendingNibble = byte & 0x0f;
  }
  codewords[2 + data.length] = pendingNibble << 4;
  for (let index = 3 + data.length, pad = 0; index < dataCodewords; index += 1, pad += 1) {
    codewords[index] = PAD_CODEWORDS[pad % 2]!;
  }
}

/**
 * A block's error correction, the block times x^22 modulo the generator, written after the data:
 * long division one codeword at a time, the running remainder shifted up and the generator,
 * scaled by the coefficient that falls off the top, subtracted (XOR in GF(256)). The generator is
 * monic, so its leading term cancels that coefficient.
 */
function writeCorrection(codewords: Uint8Array, blockStart: number, blockSize: number, correctionStart: number, generatorProducts: Uint8Array): void {
  const remainder = new Uint8Array(CORRECTION_CODEWORDS_PER_BLOCK);
  const last = CORRECTION_CODEWORDS_PER_BLOCK - 1;
  for (let index = blockStart; index < blockStart + blockSize; index += 1) {
    const products = (codewords[index]! ^ remainder[0]!) * CORRECTION_CODEWORDS_PER_BLOCK;
    for (let coefficient = 0; coefficient < last; coefficient += 1) remainder[coefficient] = remainder[coefficient + 1]! ^ generatorProducts[products + coefficient]!;
    remainder[last] = generatorProducts[products + last]!;
  }
  codewords.set(remainder, correctionStart);
}

/** Everything fixed about the symbol, read once from one qrcode draws. */
function symbolLayout(): SymbolLayout {
  const symbol = createQrCode([{ data: new Uint8Array(0), mode: 'byte' }], { version: QR_VERSION, errorCorrectionLevel: QR_LEVEL, maskPattern: QR_MASK });
  const { size, data, reservedBit } = symbol.modules;
  if (size !== SEAL_QR_SIZE) throw new AppError('internal', 'document.qr_shape', `qrcode drew ${size} modules a side, not ${SEAL_QR_SIZE}`);
  const functionModules = new Uint8Array(size * size);
  for (let index = 0; index < functionModules.length; index += 1) functionModules[index] = reservedBit[index] ? data[index]! : 0;
  const placement = dataModulePlacement(size, reservedBit);
  // Version 13 has no remainder bits: the data modules hold the codewords exactly.
  const totalCodewords = placement.length / 8;
  if (!Number.isInteger(totalCodewords)) throw new AppError('internal', 'document.qr_shape', `${placement.length} data modules are not whole codewords`);
  const dataCodewords = totalCodewords - BLOCK_COUNT * CORRECTION_CODEWORDS_PER_BLOCK;
  const blockSizes = blockSizesOf(totalCodewords, dataCodewords);
  const moduleOfBit = new Uint16Array(placement.length);
  interleavingOrder(blockSizes, dataCodewords).forEach((codeword, position) => {
    for (let bit = 0; bit < 8; bit += 1) moduleOfBit[codeword * 8 + bit] = placement[position * 8 + bit]!;
  });
  return {
    functionModules,
    moduleOfBit,
    maskOfBit: Uint8Array.from(moduleOfBit, (index) => ((Math.floor(index / size) + (index % size)) % 2 === 0 ? 1 : 0)),
    totalCodewords,
    dataCodewords,
    capacityBytes: Math.floor((dataCodewords * 8 - HEADER_BITS) / 8),
    blockSizes,
    generatorProducts: generatorProductsOf(CORRECTION_CODEWORDS_PER_BLOCK),
  };
}

/**
 * The zig-zag that places the interleaved bit stream: column pairs from the right, upwards then
 * downwards in turn, the right column of a pair before the left, skipping the vertical timing
 * column (6) and every function module.
 */
function dataModulePlacement(size: number, reserved: Uint8Array): Uint16Array {
  const placement: number[] = [];
  let upwards = true;
  for (let rightColumn = size - 1; rightColumn > 0; rightColumn -= 2) {
    if (rightColumn === 6) rightColumn -= 1;
    for (let step = 0; step < size; step += 1) {
      const row = upwards ? size - 1 - step : step;
      for (const column of [rightColumn, rightColumn - 1]) {
        if (!reserved[row * size + column]) placement.push(row * size + column);
      }
    }
    upwards = !upwards;
  }
  return Uint16Array.from(placement);
}

/** Blocks in order: the first ones of the shorter size, the last (total mod blocks) one codeword longer. */
function blockSizesOf(totalCodewords: number, dataCodewords: number): number[] {
  const longerBlocks = totalCodewords % BLOCK_COUNT;
  const shorterSize = Math.floor(dataCodewords / BLOCK_COUNT);
  return Array.from({ length: BLOCK_COUNT }, (_, block) => (block < BLOCK_COUNT - longerBlocks ? shorterSize : shorterSize + 1));
}

/**
 * The codewords (by their index in block order) as the symbol carries them: the i-th data codeword
 * of every block that has one, for each i, then the i-th correction codeword of every block.
 */
function interleavingOrder(blockSizes: number[], dataCodewords: number): number[] {
  const blockStarts = blockSizes.map((_, block) => blockSizes.slice(0, block).reduce((sum, size) => sum + size, 0));
  const order: number[] = [];
  for (let column = 0; column < Math.max(...blockSizes); column += 1) {
    blockSizes.forEach((size, block) => {
      if (column < size) order.push(blockStarts[block]! + column);
    });
  }
  for (let column = 0; column < CORRECTION_CODEWORDS_PER_BLOCK; column += 1) {
    blockSizes.forEach((_, block) => order.push(dataCodewords + block * CORRECTION_CODEWORDS_PER_BLOCK + column));
  }
  return order;
}

/**
 * The generator (x − α^0)(x − α^1)…(x − α^(degree−1)) over GF(256) with the QR field polynomial
 * x^8 + x^4 + x^3 + x^2 + 1, its coefficients after the leading 1 each multiplied by all 256
 * factors, so the division above is a table look-up per term.
 */
function generatorProductsOf(degree: number): Uint8Array {
  const { exponentials, logarithms } = galoisFieldTables();
  const multiply = (left: number, right: number): number => (left === 0 || right === 0 ? 0 : exponentials[(logarithms[left]! + logarithms[right]!) % 255]!);
  let generator = [1];
  for (let power = 0; power < degree; power += 1) {
    const root = exponentials[power]!;
    const product = new Array<number>(generator.length + 1).fill(0);
    generator.forEach((coefficient, index) => {
      product[index]! ^= coefficient;
      product[index + 1]! ^= multiply(coefficient, root);
    });
    generator = product;
  }
  const products = new Uint8Array(256 * degree);
  for (let factor = 0; factor < 256; factor += 1) {
    for (let coefficient = 0; coefficient < degree; coefficient += 1) products[factor * degree + coefficient] = multiply(generator[coefficient + 1]!, factor);
  }
  return products;
}

/** Powers of α = 2 and their logarithms, reducing by the field polynomial (0x11d) past eight bits. */
function galoisFieldTables(): { exponentials: Uint8Array; logarithms: Uint8Array } {
  const exponentials = new Uint8Array(255);
  const logarithms = new Uint8Array(256);
  let value = 1;
  for (let power = 0; power < 255; power += 1) {
    exponentials[power] = value;
    logarithms[value] = power;
    value <<= 1;
    if (value & 0x100) value ^= 0x11d;
  }
  return { exponentials, logarithms };
}
