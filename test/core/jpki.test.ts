// Proves the JPKI host side sends byte-exact APDUs and, against a simulated card, reads the kind and certificate, counts and locks the PIN across runs, and produces signatures node:crypto verifies.
import { createHash, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import forge from 'node-forge';
import {
  computeSignatureApdu,
  decodeResponse,
  derTotalLength,
  digestInfoForSha256,
  encodeApdu,
  JpkiCard,
  pinStatusApdu,
  readBinaryApdu,
  SHA256_DIGEST_INFO_PREFIX,
  selectAppletApdu,
  selectFileApdu,
  verifyPinApdu,
} from '../../core/jpki.ts';
import type { CardChannel } from '../../core/ports.ts';
import { readCardFile, writeCardFile, type CardFile } from '../../drivers/card/card-file.ts';
import { SimulatedCardReader } from '../../drivers/card/simulated-reader.ts';
import { rejectsWith } from '../app-error.ts';
import { testRsaKey } from '../rsa-keys.ts';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

function bytes(hexText: string): Uint8Array {
  return new Uint8Array(Buffer.from(hexText.replace(/\s+/g, ''), 'hex'));
}

/** An RSA-2048 key and a throwaway self-signed certificate, like the one on a card's EF 000A. */
function makeTestIdentity(): { certificateDer: Uint8Array; privateKeyPem: string } {
  const { privateKeyPem, publicKeyPem } = testRsaKey(0);
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  certificate.serialNumber = '01';
  certificate.validity.notBefore = new Date('2025-01-01T00:00:00Z');
  certificate.validity.notAfter = new Date('2030-01-01T00:00:00Z');
  const subject = [{ name: 'commonName', value: 'jpki test card' }];
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  certificate.sign(forge.pki.privateKeyFromPem(privateKeyPem), forge.md.sha256.create());
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes();
  return { certificateDer: new Uint8Array(Buffer.from(der, 'binary')), privateKeyPem };
}

/** Wraps a channel and keeps every command sent, to check what went over the wire. */
function recording(channel: CardChannel): { channel: CardChannel; commands: Uint8Array[] } {
  const commands: Uint8Array[] = [];
  return {
    commands,
    channel: {
      transmit: (command) => {
        commands.push(command);
        return channel.transmit(command);
      },
    },
  };
}

describe('APDU encoding', () => {
  it('encodes SELECT applet, SELECT EF, READ BINARY, VERIFY and COMPUTE SIGNATURE byte for byte', () => {
    assert.equal(hex(selectAppletApdu()), '00A4040C0AD392F000260100000001');
    assert.equal(hex(selectFileApdu(0x000a)), '00A4020C02000A');
    assert.equal(hex(selectFileApdu(0x0018)), '00A4020C020018');
    assert.equal(hex(readBinaryApdu(0x0123, 0xff)), '00B00123FF');
    assert.equal(hex(verifyPinApdu('1234')), '002000800431323334');
    assert.equal(hex(pinStatusApdu()), '00200080');
    const digestInfo = digestInfoForSha256(new Uint8Array(32).fill(0xab));
    assert.equal(hex(computeSignatureApdu(digestInfo)), `802A008033${hex(digestInfo)}00`);
  });

  it('encodes Le 256 as 00 and refuses data longer than a short APDU', () => {
    assert.equal(hex(encodeApdu({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 256 })), '00B0000000');
    assert.throws(() => encodeApdu({ cla: 0, ins: 0x2a, p1: 0, p2: 0, data: new Uint8Array(256) }), { code: 'card.apdu_too_long' });
  });

  it('splits a response into data and status word', () => {
    assert.deepEqual(decodeResponse(bytes('0102 9000')), { data: bytes('0102'), sw: 0x9000 });
    assert.deepEqual(decodeResponse(bytes('63C2')), { data: new Uint8Array(0), sw: 0x63c2 });
    assert.throws(() => decodeResponse(bytes('90')), { code: 'card.unreadable' });
  });

  it('reads DER lengths in short and long form', () => {
    assert.equal(derTotalLength(bytes('3005')), 7);
    assert.equal(derTotalLength(bytes('308203A0')), 4 + 0x03a0);
    assert.equal(derTotalLength(bytes('3081C8')), 3 + 0xc8);
    assert.equal(derTotalLength(bytes('3080')), undefined);
  });

  it('builds a SHA-256 DigestInfo as the prefix followed by the digest', () => {
    const digest = createHash('sha256').update('abc').digest();
    const digestInfo = digestInfoForSha256(new Uint8Array(digest));
    assert.equal(hex(SHA256_DIGEST_INFO_PREFIX), '3031300D060960864801650304020105000420');
    assert.equal(digestInfo.length, 51);
    assert.equal(hex(digestInfo), hex(SHA256_DIGEST_INFO_PREFIX) + hex(digest));
    assert.throws(() => digestInfoForSha256(new Uint8Array(20)), { code: 'card.digest_length' });
  });
});

describe('JpkiCard against a simulated card', () => {
  let directory: string;
  let identity: { certificateDer: Uint8Array; privateKeyPem: string };
  let cardNumber = 0;

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'cvs-jpki-'));
    identity = makeTestIdentity();
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  function makeCard(overrides: Partial<CardFile> = {}): string {
    cardNumber += 1;
    const path = join(directory, `card-${cardNumber}.json`);
    writeCardFile(path, {
      version: 1,
      cardId: `card-${cardNumber}`,
      kind: 'my-number-card',
      authCertificateDerBase64: Buffer.from(identity.certificateDer).toString('base64'),
      authPrivateKeyPem: identity.privateKeyPem,
      pin: '4321',
      pinTriesLeft: 3,
      ...overrides,
    });
    return path;
  }

  async function open(path: string): Promise<{ card: JpkiCard; commands: Uint8Array[]; reader: SimulatedCardReader }> {
    const reader = new SimulatedCardReader('test reader');
    reader.place(path);
    const recorded = recording(await reader.connect());
    return { card: new JpkiCard(recorded.channel), commands: recorded.commands, reader };
  }

  it('reads the card kind and the whole certificate in chunks of at most 255 bytes', async () => {
    const { card, commands } = await open(makeCard());
    await card.selectApplet();
    assert.equal(await card.readCardKind(), 'my-number-card');
    const certificate = await card.readAuthCertificate();
    assert.ok(identity.certificateDer.length > 256);
    assert.deepEqual(certificate, identity.certificateDer);
    const reads = commands.filter((command) => command[1] === 0xb0);
    assert.ok(reads.length >= 1 + Math.ceil(identity.certificateDer.length / 0xff));
    assert.ok(reads.every((command) => command.length === 5 && command[4]! >= 1 && command[4]! <= 0xff));
    assert.equal(new X509Certificate(certificate).subject, 'CN=jpki test card');
  });

  it('tells the other card kinds apart by their token', async () => {
    assert.equal(await (await open(makeCard({ kind: 'juki-card' }))).card.readCardKind(), 'juki-card');
    assert.equal(await (await open(makeCard({ kind: 'smartphone' }))).card.readCardKind(), 'smartphone');
  });

  it('counts wrong PINs down to a lock that survives reopening the card file', async () => {
    const path = makeCard();
    const first = await open(path);
    assert.equal(await first.card.authPinTriesLeft(), 3);
    assert.deepEqual(await first.card.verifyAuthPin('0000'), { ok: false, triesLeft: 2 });
    assert.deepEqual(await first.card.verifyAuthPin('1111'), { ok: false, triesLeft: 1 });
    assert.deepEqual(await first.card.verifyAuthPin('2222'), { ok: false, locked: true, triesLeft: 0 });
    assert.equal(readCardFile(path).pinTriesLeft, 0);

    const second = await open(path);
    assert.equal(await second.card.authPinTriesLeft(), 0);
    assert.deepEqual(await second.card.verifyAuthPin('4321'), { ok: false, locked: true, triesLeft: 0 });
    const digestInfo = digestInfoForSha256(new Uint8Array(32));
    await rejectsWith(second.card.signAuth(digestInfo), 'card.locked');
  });

  it('resets the counter to 3 on the right PIN', async () => {
    const path = makeCard();
    const { card } = await open(path);
    assert.deepEqual(await card.verifyAuthPin('9999'), { ok: false, triesLeft: 2 });
    assert.equal(readCardFile(path).pinTriesLeft, 2);
    assert.deepEqual(await card.verifyAuthPin('4321'), { ok: true });
    assert.equal(await card.authPinTriesLeft(), 3);
    assert.equal(readCardFile(path).pinTriesLeft, 3);
  });

  it('refuses a PIN that is not 4 digits without sending anything to the card', async () => {
    const { card, commands } = await open(makeCard());
    for (const pin of ['123', '12345', '12a4', '１２３４']) {
      const error = await rejectsWith(card.verifyAuthPin(pin), 'card.pin_format');
      assert.equal(error.kind, 'input');
      assert.ok(!error.message.includes(pin));
    }
    assert.equal(commands.length, 0);
  });

  it('refuses to sign before the PIN is verified in this session', async () => {
    const path = makeCard();
    const digestInfo = digestInfoForSha256(new Uint8Array(32));
    const error = await rejectsWith((await open(path)).card.signAuth(digestInfo), 'card.pin_required');
    assert.equal(error.kind, 'refused');

    const verified = await open(path);
    assert.deepEqual(await verified.card.verifyAuthPin('4321'), { ok: true });
    await verified.reader.disconnect();
    const nextSession = new JpkiCard(await verified.reader.connect());
    await rejectsWith(nextSession.signAuth(digestInfo), 'card.pin_required');
  });

  it('signs a SHA-256 DigestInfo so that crypto.verify accepts the signature over the data', async () => {
    const { card } = await open(makeCard());
    assert.deepEqual(await card.verifyAuthPin('4321'), { ok: true });
    const data = new TextEncoder().encode('challenge-nonce|kiosk-0001');
    const digest = new Uint8Array(createHash('sha256').update(data).digest());
    const signature = await card.signAuth(digestInfoForSha256(digest));
    assert.equal(signature.length, 256);
    const publicKey = new X509Certificate(identity.certificateDer).publicKey;
    assert.equal(verify('sha256', data, publicKey, signature), true);
    assert.equal(verify('sha256', new TextEncoder().encode('other'), publicKey, signature), false);
  });

  it('reports an unreadable card, and a card that does not answer, as card.unreadable', async () => {
    const unreadable = await open(makeCard({ fault: 'unreadable' }));
    const error = await rejectsWith(unreadable.card.selectApplet(), 'card.unreadable');
    assert.equal(error.message, 'card answered SW 6F00 to SELECT applet');
    const silent = await open(makeCard({ fault: 'no-answer' }));
    await rejectsWith(silent.card.readCardKind(), 'card.unreadable');
  });
});
