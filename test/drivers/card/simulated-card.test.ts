// Proves the simulated card answers malformed and out-of-place APDUs with the status words a real card uses, keeps its card file valid and private, and that the readers fail clearly when there is no card or no PC/SC support.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../../core/errors.ts';
import { selectAppletApdu, selectFileApdu, readBinaryApdu, computeSignatureApdu, digestInfoForSha256, verifyPinApdu } from '../../../core/jpki.ts';
import { readCardFile, writeCardFile, type CardFile } from '../../../drivers/card/card-file.ts';
import { PcscCardReader } from '../../../drivers/card/pcsc-reader.ts';
import { SimulatedCard } from '../../../drivers/card/simulated-card.ts';
import { SimulatedCardReader } from '../../../drivers/card/simulated-reader.ts';
import { rejectsWith } from '../../app-error.ts';
import { testRsaKey } from '../../rsa-keys.ts';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

function bytes(hexText: string): Uint8Array {
  return new Uint8Array(Buffer.from(hexText.replace(/\s+/g, ''), 'hex'));
}

describe('SimulatedCard', () => {
  let directory: string;
  let baseCard: CardFile;
  let cardNumber = 0;

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'cvs-card-'));
    const privateKeyPem = testRsaKey(0).privateKeyPem;
    baseCard = {
      version: 1,
      cardId: 'card-test',
      kind: 'my-number-card',
      // Any bytes do for the status-word tests; 300 of them make the file longer than one chunk.
      authCertificateDerBase64: Buffer.from(new Uint8Array(300).fill(0x30)).toString('base64'),
      authPrivateKeyPem: privateKeyPem,
      pin: '1234',
      pinTriesLeft: 3,
    };
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  function makeCardFile(overrides: Partial<CardFile> = {}): string {
    cardNumber += 1;
    const path = join(directory, `card-${cardNumber}.json`);
    writeCardFile(path, { ...baseCard, ...overrides });
    return path;
  }

  async function answer(card: SimulatedCard, command: Uint8Array | string): Promise<string> {
    return hex(await card.transmit(typeof command === 'string' ? bytes(command) : command));
  }

  it('answers unknown INS 6D00, wrong CLA 6E00 and a garbled length 6700', async () => {
    const card = new SimulatedCard(makeCardFile());
    assert.equal(await answer(card, '00CA000000'), '6D00');
    assert.equal(await answer(card, '10A4040C0AD392F000260100000001'), '6E00');
    assert.equal(await answer(card, '00A4040C'), '6A82');
    assert.equal(await answer(card, '002A0080'), '6E00');
    assert.equal(await answer(card, '80B0000010'), '6E00');
    assert.equal(await answer(card, '00A4'), '6700');
    assert.equal(await answer(card, '00A4020C05000A'), '6700');
  });

  it('finds EFs only inside the selected applet, and answers 6A82 for unknown ones', async () => {
    const card = new SimulatedCard(makeCardFile());
    assert.equal(await answer(card, selectFileApdu(0x000a)), '6A82');
    assert.equal(await answer(card, '00A4040C0AD392F000260100000002'), '6A82');
    assert.equal(await answer(card, selectAppletApdu()), '9000');
    assert.equal(await answer(card, selectFileApdu(0x0099)), '6A82');
    assert.equal(await answer(card, selectFileApdu(0x000a)), '9000');
  });

  it('reads binary up to the end of the file and answers 6B00 past it', async () => {
    const card = new SimulatedCard(makeCardFile());
    await answer(card, selectAppletApdu());
    assert.equal(await answer(card, readBinaryApdu(0, 1)), '6986');
    await answer(card, selectFileApdu(0x000a));
    assert.equal(await answer(card, readBinaryApdu(290, 0xff)), `${'30'.repeat(10)}9000`);
    assert.equal(await answer(card, readBinaryApdu(300, 1)), '6B00');
    await answer(card, selectFileApdu(0x0017));
    assert.equal(await answer(card, readBinaryApdu(0, 1)), '6981');
    await answer(card, selectFileApdu(0x0006));
    assert.equal(await answer(card, readBinaryApdu(0, 0x20)), `${hex(new TextEncoder().encode('JPKIAPICCTOKEN2'.padEnd(32)))}9000`);
  });

  it('keeps the verified PIN to one connection and the counter in the card file', async () => {
    const path = makeCardFile();
    const reader = new SimulatedCardReader('reader 1');
    reader.place(path);
    const first = await reader.connect();
    await first.transmit(selectAppletApdu());
    await first.transmit(selectFileApdu(0x0018));
    assert.equal(hex(await first.transmit(verifyPinApdu('0000'))), '63C2');
    assert.equal(hex(await first.transmit(bytes('00200080'))), '63C2');
    assert.equal(hex(await first.transmit(verifyPinApdu('1234'))), '9000');
    await first.transmit(selectFileApdu(0x0017));
    const digestInfo = digestInfoForSha256(new Uint8Array(32));
    assert.equal((await first.transmit(computeSignatureApdu(digestInfo))).length, 258);

    const second = await reader.connect();
    await rejectsWith(first.transmit(selectAppletApdu()), 'card.absent');
    await second.transmit(selectAppletApdu());
    await second.transmit(selectFileApdu(0x0017));
    assert.equal(hex(await second.transmit(computeSignatureApdu(digestInfo))), '6982');
    assert.equal(readCardFile(path).pinTriesLeft, 3);
  });

  it('answers 6984 to VERIFY once locked, even with the right PIN', async () => {
    const card = new SimulatedCard(makeCardFile({ pinTriesLeft: 0 }));
    await card.transmit(selectAppletApdu());
    await card.transmit(selectFileApdu(0x0018));
    assert.equal(await answer(card, verifyPinApdu('1234')), '6984');
    assert.equal(await answer(card, '00200080'), '6984');
  });

  it('answers 6F00 to everything when unreadable and throws when it does not answer', async () => {
    const unreadable = new SimulatedCard(makeCardFile({ fault: 'unreadable' }));
    assert.equal(await answer(unreadable, selectAppletApdu()), '6F00');
    const silent = new SimulatedCard(makeCardFile({ fault: 'no-answer' }));
    const error = await rejectsWith(silent.transmit(selectAppletApdu()), 'card.unreadable');
    assert.equal(error.message, 'card did not answer');
  });

  it('writes the card file with mode 0600 and reads back the same card', () => {
    const path = makeCardFile({ fault: 'unreadable' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readCardFile(path), { ...baseCard, fault: 'unreadable' });
  });

  it('names the file and the field when a card file is invalid, without echoing the PIN', () => {
    const path = join(directory, 'broken.json');
    const cases: Array<[unknown, string]> = [
      [{ ...baseCard, pinTriesLeft: 4 }, 'pinTriesLeft'],
      [{ ...baseCard, kind: 'credit-card' }, 'kind'],
      [{ ...baseCard, pin: '98765' }, 'pin'],
      [{ ...baseCard, version: 2 }, 'version'],
      [{ ...baseCard, fault: 'smoke' }, 'fault'],
      [{ ...baseCard, authPrivateKeyPem: 'nope' }, 'authPrivateKeyPem'],
    ];
    for (const [content, field] of cases) {
      writeFileSync(path, JSON.stringify(content));
      assert.throws(
        () => readCardFile(path),
        (error: unknown) =>
          error instanceof AppError &&
          error.code === 'card.file_invalid' &&
          error.where === path &&
          error.message.includes(`"${field}"`) &&
          !error.message.includes('98765'),
      );
    }
    writeFileSync(path, '{ not json');
    assert.throws(() => readCardFile(path), { code: 'card.file_invalid', message: 'the card file is not valid JSON' });
    assert.throws(() => readCardFile(join(directory, 'missing.json')), { code: 'card.file_invalid' });
  });
});

describe('SimulatedCardReader', () => {
  it('refuses to connect with no card on it, and ends the session when the card is removed', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'cvs-reader-'));
    try {
      const reader = new SimulatedCardReader('reader 1');
      assert.equal(reader.name, 'reader 1');
      const error = await rejectsWith(reader.connect(), 'card.absent');
      assert.equal(error.message, 'no card on the reader');
      assert.equal(error.kind, 'refused');

      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const path = join(directory, 'card.json');
      writeCardFile(path, {
        version: 1,
        cardId: 'c',
        kind: 'smartphone',
        authCertificateDerBase64: 'MAA=',
        authPrivateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        pin: '1234',
        pinTriesLeft: 3,
      });
      reader.place(path);
      const channel = await reader.connect();
      assert.equal(hex(await channel.transmit(selectAppletApdu())), '9000');
      reader.remove();
      await rejectsWith(channel.transmit(selectAppletApdu()), 'card.absent');
      await rejectsWith(reader.connect(), 'card.absent');
      assert.throws(() => reader.place(join(directory, 'missing.json')), { code: 'card.file_invalid' });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('PcscCardReader', () => {
  it('says how to install PC/SC support when the smartcard package is missing', async () => {
    const reader = new PcscCardReader('Virtual PCD 00 00', { moduleName: 'smartcard-package-absent-for-test' });
    const error = await rejectsWith(reader.connect(), 'card.pcsc_unavailable');
    assert.equal(error.kind, 'input');
    assert.equal(error.message, 'PC/SC support is not installed: install libpcsclite and the npm package "smartcard"');
    await reader.disconnect();
  });
});
