// Test helper: RSA-2048 key pairs made once per test process and handed out by number. A key costs
// about 0.3 s of CPU on Node (OpenSSL 3) and 0.13 s on Bun, and the unit tests asked for some
// thirty; Bun runs every file in one process and Node runs most of them in two (issue 9), so
// numbered keys are shared across files. Within a file, distinct numbers are distinct keys: use a
// new number wherever a test needs a key no other party holds.

import { generateRsaKeyPem, type RsaKeyPair } from '../drivers/pki/issue.ts';

const made: RsaKeyPair[] = [];

/** Key pair number `index` of this process (PEM: PKCS#8 private, SPKI public). */
export function testRsaKey(index: number): RsaKeyPair {
  while (made.length <= index) made.push(generateRsaKeyPem());
  return made[index]!;
}
