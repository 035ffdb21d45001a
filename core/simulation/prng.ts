// The simulation's only source of chance (docs/simulation.md): xoshiro128** seeded through
// splitmix32, pure integer arithmetic, so one seed gives the same numbers on Node and on Bun.

/** One splitmix32 step: spreads any 32-bit state over the whole output space. */
function splitmix32(state: number): { state: number; value: number } {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return { state: next, value: (z ^ (z >>> 16)) >>> 0 };
}

export const MAX_SEED = Number.MAX_SAFE_INTEGER;

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `stream` gives independent sequences from one seed (faults, residents, each node's ids). */
  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a whole number 0..${MAX_SEED}`);
    let state = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x27d4eb2f) ^ Math.imul(stream + 1, 0x165667b1);
    const words: number[] = [];
    for (let index = 0; index < 4; index += 1) {
      const step = splitmix32(state);
      state = step.state;
      words.push(step.value);
    }
    [this.a, this.b, this.c, this.d] = words as [number, number, number, number];
    // xoshiro's one forbidden state is all zeros; splitmix32 cannot give four zeros, but be sure.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  uint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotateLeft(this.d, 11);
    return result;
  }

  /** A number in [0, 1). */
  float(): number {
    return this.uint32() / 2 ** 32;
  }

  /** A whole number in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return probability > 0 && this.float() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let index = 0; index < length; index += 4) {
      let word = this.uint32();
      for (let byte = index; byte < Math.min(length, index + 4); byte += 1) {
        out[byte] = word & 0xff;
        word >>>= 8;
      }
    }
    return out;
  }
}

function rotateLeft(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}
