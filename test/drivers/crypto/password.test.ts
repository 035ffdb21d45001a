// Proves the maintenance password hash (drivers/crypto/password.ts): salted, slow, checked in
// constant time, the same text however it is normalised, and a stored hash that is edited,
// truncated or set to an absurd cost is a refusal, never a crash or a hang.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, verifyPassword } from '../../../drivers/crypto/password.ts';

describe('maintenance password hash', () => {
  const stored = hashPassword('correct horse battery');

  it('accepts the password and refuses others; each hash has its own salt', () => {
    assert.equal(verifyPassword('correct horse battery', stored), true);
    assert.equal(verifyPassword('correct horse batter', stored), false);
    assert.equal(verifyPassword('', stored), false);
    assert.notEqual(hashPassword('correct horse battery'), stored);
    assert.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  });

  it('treats the two Unicode spellings of a password alike (NFC)', () => {
    const composed = hashPassword('パスワード\u30d1');
    assert.equal(verifyPassword('パスワード\u30cf\u309a', composed), true);
  });

  it('refuses a stored hash that is malformed, cut short, or asks for absurd work', () => {
    const [scheme, , r, p, salt, hash] = stored.split('$');
    for (const edited of [
      '',
      'bcrypt$10$x',
      `${scheme}$32768$${r}$${p}$${salt}`,
      `${scheme}$32768$${r}$${p}$${salt}$${hash}$more`,
      `${scheme}$1073741824$${r}$${p}$${salt}$${hash}`,
      `${scheme}$1000$${r}$${p}$${salt}$${hash}`,
      `${scheme}$32768$999$${p}$${salt}$${hash}`,
      `${scheme}$32768$${r}$${p}$${salt}$${hash!.slice(0, 8)}`,
    ]) {
      assert.equal(verifyPassword('correct horse battery', edited), false, edited.slice(0, 40));
    }
  });
});
