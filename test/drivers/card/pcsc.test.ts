// Proves the PC/SC reader driver works against a real pcscd: through vsmartcard's vpcd, the card
// file answers as a JPKI card (drivers/card/vpcd-card.ts), its certificate reads back whole, its
// signature verifies with node:crypto, wrong PINs count down and lock it, a reset forgets the PIN,
// and a card pulled mid-session or never placed gives the reader errors the kiosk shows.
import assert from 'node:assert/strict';
import { createHash, verify, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { digestInfoForSha256, JpkiCard, selectAppletApdu } from '../../../core/jpki.ts';
import { readCardFile, writeCardFile } from '../../../drivers/card/card-file.ts';
import { PcscCardReader } from '../../../drivers/card/pcsc-reader.ts';
import { certificateDerFromPem, createCertificateAuthority, issueCertificate } from '../../../drivers/pki/issue.ts';
import { insertCard, pcscMissing, startPcsc, type PcscStack } from '../../pcsc.ts';
import { rejectsWith } from '../../app-error.ts';
import { testRsaKey } from '../../rsa-keys.ts';

describe('PcscCardReader through pcscd and vpcd', { skip: pcscMissing }, () => {
  let stack: PcscStack;
  let directory: string;
  let certificatePem: string;
  let keyPem: string;
  let cardNumber = 0;

  before(async () => {
    stack = await startPcsc();
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'cvs-pcsc-'));
    const now = Date.now();
    const validity = { validFrom: new Date(now - 86_400_000), validTo: new Date(now + 365 * 86_400_000) };
    const ca = createCertificateAuthority({ subject: { commonName: 'JPKI test CA', country: 'JP' }, ...validity, keyPair: testRsaKey(0) });
    const issued = issueCertificate(ca, { subject: { commonName: 'JPKI auth pcsc-test', country: 'JP' }, usage: 'card-auth', ...validity, keyPair: testRsaKey(1) });
    certificatePem = issued.certificatePem;
    keyPem = issued.keyPem;
  });
  after(() => fs.rmSync(directory, { recursive: true, force: true }));

  function makeCardFile(fault?: 'unreadable' | 'no-answer'): string {
    cardNumber += 1;
    const file = path.join(directory, `card-${cardNumber}.json`);
    writeCardFile(file, {
      version: 1,
      cardId: `pcsc-${cardNumber}`,
      kind: 'my-number-card',
      authCertificateDerBase64: Buffer.from(certificateDerFromPem(certificatePem)).toString('base64'),
      authPrivateKeyPem: keyPem,
      pin: '2468',
      pinTriesLeft: 3,
      ...(fault === undefined ? {} : { fault }),
    });
    return file;
  }

  it('reads the certificate whole and signs with the card key, verified by node:crypto', async () => {
    const card = await insertCard(stack, makeCardFile());
    const reader = new PcscCardReader(stack.readerName);
    try {
      const jpki = new JpkiCard(await reader.connect());
      await jpki.selectApplet();
      assert.equal(await jpki.readCardKind(), 'my-number-card');
      const der = await jpki.readAuthCertificate();
      assert.deepEqual(Buffer.from(der), Buffer.from(certificateDerFromPem(certificatePem)));
      assert.deepEqual(await jpki.verifyAuthPin('2468'), { ok: true });
      const message = Buffer.from('challenge from the centre');
      const signature = await jpki.signAuth(digestInfoForSha256(createHash('sha256').update(message).digest()));
      const publicKey = new X509Certificate(Buffer.from(der)).publicKey;
      assert.equal(verify('sha256', message, publicKey, Buffer.from(signature)), true);
      assert.equal(verify('sha256', Buffer.from('another message'), publicKey, Buffer.from(signature)), false);
    } finally {
      await reader.disconnect();
      await card.remove();
    }
  });

  it('counts wrong PINs down to a lock kept in the card file, and forgets a verified PIN on reset', async () => {
    const file = makeCardFile();
    const card = await insertCard(stack, file);
    const reader = new PcscCardReader('');
    try {
      let jpki = new JpkiCard(await reader.connect());
      assert.deepEqual(await jpki.verifyAuthPin('2468'), { ok: true });
      // disconnect() resets the card: the next connection must verify the PIN again.
      await reader.disconnect();
      jpki = new JpkiCard(await reader.connect());
      await rejectsWith(jpki.signAuth(digestInfoForSha256(new Uint8Array(32))), 'card.pin_required');
      assert.deepEqual(await jpki.verifyAuthPin('1111'), { ok: false, triesLeft: 2 });
      assert.deepEqual(await jpki.verifyAuthPin('1111'), { ok: false, triesLeft: 1 });
      assert.equal(readCardFile(file).pinTriesLeft, 1);
      assert.deepEqual(await jpki.verifyAuthPin('1111'), { ok: false, locked: true, triesLeft: 0 });
      assert.equal(await jpki.authPinTriesLeft(), 0);
      await reader.disconnect();
      jpki = new JpkiCard(await reader.connect());
      assert.deepEqual(await jpki.verifyAuthPin('2468'), { ok: false, locked: true, triesLeft: 0 });
      await rejectsWith(jpki.signAuth(digestInfoForSha256(new Uint8Array(32))), 'card.locked');
      assert.equal(readCardFile(file).pinTriesLeft, 0);
    } finally {
      await reader.disconnect();
      await card.remove();
    }
  });

  it('fails with card.absent when the card is pulled mid-session, and when no card is placed', async () => {
    const card = await insertCard(stack, makeCardFile());
    const reader = new PcscCardReader(stack.readerName);
    try {
      assert.deepEqual(await reader.readiness(), { reader: stack.readerName, cardPresent: true });
      const channel = await reader.connect();
      assert.equal(Buffer.from(await channel.transmit(selectAppletApdu())).toString('hex'), '9000');
      await card.remove();
      const pulled = await rejectsWith(channel.transmit(selectAppletApdu()), 'card.absent');
      assert.equal(pulled.kind, 'refused');
      await reader.disconnect();
      assert.deepEqual(await reader.readiness(), { reader: stack.readerName, cardPresent: false });
      const empty = await rejectsWith(reader.connect(), 'card.absent');
      assert.equal(empty.message, 'no card on the reader');
    } finally {
      await reader.disconnect();
      await card.remove();
    }
  });

  it('reports an unreadable card and a card that does not answer as card.unreadable', async () => {
    for (const fault of ['unreadable', 'no-answer'] as const) {
      const card = await insertCard(stack, makeCardFile(fault));
      const reader = new PcscCardReader(stack.readerName);
      try {
        const jpki = new JpkiCard(await reader.connect());
        const error = await rejectsWith(jpki.selectApplet(), 'card.unreadable');
        assert.equal(error.kind, 'refused', fault);
      } finally {
        await reader.disconnect().catch(() => undefined);
        await card.remove();
      }
    }
  });

  it('names a reader that is not there', async () => {
    const reader = new PcscCardReader('No Such Reader 00 00');
    const error = await rejectsWith(reader.connect(), 'card.reader_missing');
    assert.equal(error.message, 'cannot find the PC/SC reader "No Such Reader 00 00"');
    await rejectsWith(reader.readiness(), 'card.reader_missing');
  });
});
