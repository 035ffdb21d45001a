// Proves core/signed-note.ts formats and parses C2SP checkpoints and vkeys, reproduces Go sumdb/note's published signed note byte for byte, and rejects tampered bodies, wrong keys, bad key ids and malformed notes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  type Checkpoint,
  ed25519KeyId,
  formatCheckpoint,
  formatVerifierKey,
  type NoteVerifier,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  signNote,
} from '../../core/signed-note.ts';
import {
  createEd25519Signer,
  createEd25519Verifier,
  generateEd25519KeyPair,
} from '../../drivers/pki/ed25519.ts';

const sha256 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

// golang.org/x/mod/sumdb/note's documented example (note.go and note_test.go): the signer key
// is "PRIVATE+KEY+PeterNeumann+c74f20a3+" + base64(0x01 ‖ Ed25519 seed).
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SEED = Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64').subarray(1);
const PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE =
  PETER_TEXT +
  '\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

// c2sp.org/tlog-checkpoint's example (its key is not published, so only the syntax is checked).
const SPEC_CHECKPOINT_BODY = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
const SPEC_CHECKPOINT_NOTE =
  SPEC_CHECKPOINT_BODY +
  '\n\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n';

function pemFromSeed(seed: Uint8Array): string {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`;
}

function verifierFor(vkey: string): NoteVerifier {
  const { name, keyId, publicKey } = parseVerifierKey(vkey, sha256);
  return { name, keyId, verify: createEd25519Verifier(publicKey) };
}

function freshSigner(name: string) {
  const keys = generateEd25519KeyPair();
  const keyId = ed25519KeyId(name, keys.publicKey, sha256);
  return {
    signer: { name, keyId, sign: createEd25519Signer(keys.privateKeyPem) },
    verifier: { name, keyId, verify: createEd25519Verifier(keys.publicKey) } satisfies NoteVerifier,
    vkey: formatVerifierKey(name, keys.publicKey, sha256),
  };
}

describe('signed-note: checkpoints', () => {
  const checkpoint: Checkpoint = {
    origin: 'cvs-issue.example/kiosk/K-0001',
    size: 1_000_000,
    rootHash: sha256(new Uint8Array([1, 2, 3])),
    extensions: [],
  };

  it('formats origin, size and base64 root, and parses back', () => {
    const body = formatCheckpoint(checkpoint);
    assert.equal(body, `cvs-issue.example/kiosk/K-0001\n1000000\n${Buffer.from(checkpoint.rootHash).toString('base64')}\n`);
    assert.deepEqual(parseCheckpoint(body), checkpoint);
    const withExtensions = { ...checkpoint, size: 0, extensions: ['ext one', 'ext two'] };
    assert.equal(formatCheckpoint(withExtensions).split('\n').length, 6);
    assert.deepEqual(parseCheckpoint(formatCheckpoint(withExtensions)), withExtensions);
  });

  it('parses the C2SP example checkpoint', () => {
    const parsed = parseCheckpoint(SPEC_CHECKPOINT_BODY);
    assert.equal(parsed.origin, 'example.com/behind-the-sofa');
    assert.equal(parsed.size, 20852163);
    assert.equal(Buffer.from(parsed.rootHash).toString('base64'), 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    assert.equal(formatCheckpoint(parsed), SPEC_CHECKPOINT_BODY);
  });

  it('names the bad line of a malformed checkpoint', () => {
    const root = Buffer.from(checkpoint.rootHash).toString('base64');
    const cases: [string, string | undefined][] = [
      [`origin\n1\n${root}`, undefined], // no final newline
      [`origin\n1\n`, undefined], // too few lines
      [`\n1\n${root}\n`, 'line 1'],
      [`origin\n01\n${root}\n`, 'line 2'],
      [`origin\n-1\n${root}\n`, 'line 2'],
      [`origin\n1e3\n${root}\n`, 'line 2'],
      [`origin\n99999999999999999999\n${root}\n`, 'line 2'],
      [`origin\n1\n${root.slice(0, -1)}\n`, 'line 3'],
      [`origin\n1\nAAAA\n`, 'line 3'],
      [`origin\n1\n${root}\next\n\n`, 'line 5'],
    ];
    for (const [body, where] of cases) {
      assert.throws(() => parseCheckpoint(body), { code: 'note.bad_checkpoint', where }, JSON.stringify(body));
    }
    assert.throws(() => formatCheckpoint({ ...checkpoint, rootHash: new Uint8Array(31) }), { code: 'note.bad_checkpoint' });
    assert.throws(() => formatCheckpoint({ ...checkpoint, origin: 'a\nb' }), { code: 'note.bad_checkpoint' });
    assert.throws(() => formatCheckpoint({ ...checkpoint, extensions: [''] }), { code: 'note.bad_checkpoint' });
  });
});

describe('signed-note: verifier keys', () => {
  it('parses the Go example vkey and formats it back exactly', () => {
    const parsed = parseVerifierKey(PETER_VKEY, sha256);
    assert.equal(parsed.name, 'PeterNeumann');
    assert.equal(hex(parsed.keyId), 'c74f20a3');
    assert.equal(formatVerifierKey(parsed.name, parsed.publicKey, sha256), PETER_VKEY);
  });

  it('round-trips a fresh key whose base64 may contain "+"', () => {
    for (let attempt = 0; attempt < 8; attempt += 1) {
      const { vkey, verifier } = freshSigner('cvs-issue.example/center');
      const parsed = parseVerifierKey(vkey, sha256);
      assert.equal(hex(parsed.keyId), hex(verifier.keyId));
      assert.equal(formatVerifierKey(parsed.name, parsed.publicKey, sha256), vkey);
    }
  });

  it('rejects a wrong key id, a bad name, a wrong type byte and short keys', () => {
    const bad = [
      PETER_VKEY.replace('c74f20a3', 'c74f20a4'),
      PETER_VKEY.replace('PeterNeumann', 'Peter Neumann'),
      PETER_VKEY.replace('PeterNeumann', ''),
      PETER_VKEY.replace('+ARpc', '+AhpcX'),
      `PeterNeumann+c74f20a3+${Buffer.concat([Buffer.of(2), Buffer.from(parseVerifierKey(PETER_VKEY, sha256).publicKey)]).toString('base64')}`,
      'PeterNeumann+c74f20a3+AQ==',
      'PeterNeumann+c74f20a3',
      'PeterNeumann+c74f2+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    ];
    for (const vkey of bad) assert.throws(() => parseVerifierKey(vkey, sha256), { code: 'note.bad_verifier_key' }, vkey);
  });
});

describe('signed-note: signing and opening', () => {
  it('reproduces the Go sumdb/note example signature byte for byte and opens it', () => {
    const verifier = verifierFor(PETER_VKEY);
    const signer = { name: verifier.name, keyId: verifier.keyId, sign: createEd25519Signer(pemFromSeed(PETER_SEED)) };
    assert.equal(signNote(PETER_TEXT, signer), PETER_NOTE);
    assert.deepEqual(openNote(PETER_NOTE, [verifier]), { body: PETER_TEXT, verifiedBy: ['PeterNeumann'] });
  });

  it('round-trips a checkpoint signed with a fresh key', () => {
    const { signer, verifier } = freshSigner('cvs-issue.example/kiosk/K-0001');
    const body = formatCheckpoint({
      origin: 'cvs-issue.example/kiosk/K-0001',
      size: 42,
      rootHash: sha256(new Uint8Array(0)),
      extensions: [],
    });
    const note = signNote(body, signer);
    assert.match(note, /\n\n\u2014 cvs-issue\.example\/kiosk\/K-0001 [A-Za-z0-9+/]+=*\n$/);
    const opened = openNote(note, [verifier]);
    assert.equal(opened.body, body);
    assert.deepEqual(opened.verifiedBy, ['cvs-issue.example/kiosk/K-0001']);
    assert.equal(parseCheckpoint(opened.body).size, 42);
  });

  it('rejects a tampered body', () => {
    const verifier = verifierFor(PETER_VKEY);
    assert.throws(() => openNote(PETER_NOTE.replace('cryptography', 'cryptographY'), [verifier]), {
      code: 'note.unverified',
    });
  });

  it('rejects a note when no trusted key signed it, and ignores unknown keys', () => {
    const other = freshSigner('PeterNeumann'); // same name, different key id
    assert.throws(() => openNote(PETER_NOTE, [other.verifier]), { code: 'note.unverified' });
    assert.throws(() => openNote(PETER_NOTE, []), { code: 'note.unverified' });
    assert.throws(() => openNote(SPEC_CHECKPOINT_NOTE, [other.verifier]), { code: 'note.unverified' });
    // A second signature by a key we do not know is ignored; the known one still counts.
    const cosigned = `${PETER_NOTE}${signNote(PETER_TEXT, other.signer).split('\n\n')[1]}`;
    assert.deepEqual(openNote(cosigned, [verifierFor(PETER_VKEY)]).verifiedBy, ['PeterNeumann']);
    assert.deepEqual(openNote(cosigned, [verifierFor(PETER_VKEY), other.verifier]).verifiedBy, [
      'PeterNeumann',
      'PeterNeumann',
    ]);
  });

  it('rejects a wrong public key that claims the right name and key id', () => {
    const real = verifierFor(PETER_VKEY);
    const impostor = freshSigner('PeterNeumann');
    const wrongKey: NoteVerifier = { name: real.name, keyId: real.keyId, verify: impostor.verifier.verify };
    assert.throws(() => openNote(PETER_NOTE, [wrongKey]), { code: 'note.unverified' });
    // A bad signature by a known key rejects the note even when another known key verifies.
    const forged = `${PETER_NOTE}\u2014 PeterNeumann ${Buffer.concat([Buffer.from(impostor.verifier.keyId), Buffer.alloc(64, 1)]).toString('base64')}\n`;
    assert.throws(() => openNote(forged, [real, impostor.verifier]), { code: 'note.unverified' });
  });

  it('rejects malformed notes', () => {
    const verifier = verifierFor(PETER_VKEY);
    const malformed = [
      PETER_TEXT, // no signatures
      PETER_NOTE.slice(0, -1), // no final newline
      PETER_NOTE.replace('\u2014 ', '-- '),
      PETER_NOTE.replace('\u2014 PeterNeumann ', '\u2014 PeterNeumann'),
      PETER_NOTE.replace('x08go', 'x08g!'),
      PETER_NOTE.replace('JnAM=', 'JnAM'),
      PETER_NOTE.replace('then', 'the\tn'),
      `${PETER_NOTE}\n`,
      `${PETER_TEXT}\n\u2014 PeterNeumann AAAA\n`,
    ];
    for (const note of malformed) {
      assert.throws(() => openNote(note, [verifier]), { code: 'note.malformed' }, JSON.stringify(note));
    }
    const tooMany = PETER_NOTE + `\u2014 x ${Buffer.alloc(68).toString('base64')}\n`.repeat(100);
    assert.throws(() => openNote(tooMany, [verifier]), { code: 'note.malformed' });
  });

  it('refuses to sign text that could not be opened', () => {
    const { signer } = freshSigner('k');
    assert.throws(() => signNote('no newline', signer), { code: 'note.malformed' });
    assert.throws(() => signNote('tab\there\n', signer), { code: 'note.malformed' });
    assert.throws(() => signNote('x\n', { ...signer, name: 'two words' }), { code: 'note.malformed' });
    assert.throws(() => signNote('x\n', { ...signer, keyId: new Uint8Array(3) }), { code: 'note.malformed' });
  });
});
