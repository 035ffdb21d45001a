// Slow salted password hashes (scrypt, node:crypto on both runtimes) for the maintenance password:
// stored as "scrypt$N$r$p$salt$hash" so the cost can be raised later without breaking old hashes.

import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const COST = 1 << 15;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const KEY_BYTES = 32;
const MAX_MEMORY_BYTES = 64 * 1024 * 1024;
/** Four times today's cost: room to raise it, no room for a hash that would stall the kiosk. */
const MAX_COST = 1 << 17;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password.normalize('NFC'), salt, KEY_BYTES, { N: COST, r: BLOCK_SIZE, p: PARALLELISM, maxmem: MAX_MEMORY_BYTES });
  return ['scrypt', COST, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), hash.toString('base64')].join('$');
}

/**
 * False for a wrong password, and for a stored hash that is malformed or asks for more work than a
 * kiosk will do (an edited database must not hang or crash the maintenance login).
 */
export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, cost, blockSize, parallelism, salt, hash, extra] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash || extra !== undefined) return false;
  const N = Number(cost);
  const r = Number(blockSize);
  const p = Number(parallelism);
  const sane = Number.isSafeInteger(N) && N >= 2 && N <= MAX_COST && (N & (N - 1)) === 0 && r >= 1 && r <= 32 && p >= 1 && p <= 4;
  const expected = Buffer.from(hash, 'base64');
  if (!sane || expected.length < 16 || expected.length > 64) return false;
  try {
    const actual = scryptSync(password.normalize('NFC'), Buffer.from(salt, 'base64'), expected.length, { N, r, p, maxmem: MAX_MEMORY_BYTES });
    return timingSafeEqual(actual, expected);
  } catch {
    return false; // the parameters need more memory than allowed
  }
}
