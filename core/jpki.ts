// The host side of the JPKI applet on a My Number card (SPEC.md §2): the APDUs, their answers, and
// what each status word means. Talks to the card only through the CardChannel port.

import { AppError } from './errors.ts';
import type { CardChannel } from './ports.ts';

export type CardKind = 'my-number-card' | 'juki-card' | 'smartphone';

export type PinResult = { ok: true } | { ok: false; triesLeft: number } | { ok: false; locked: true; triesLeft: 0 };

export const JPKI_AID = Uint8Array.of(0xd3, 0x92, 0xf0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01);

/** Elementary files inside the JPKI applet, as the 2-byte identifiers SELECT EF takes. */
export const JPKI_EF = {
  token: 0x0006,
  authCertificate: 0x000a,
  authPrivateKey: 0x0017,
  authPin: 0x0018,
} as const;

/**
 * The cards a kiosk uses (seed 別紙1 4(1)): 個人番号カード又は住民基本台帳カード. The real service has
 * also accepted smartphone certificates since 2023; here that is a deployment's policy
 * (`smartphoneCertificates` in cvs-issue.json, off unless set), not the contract's rule.
 */
export const CONTRACT_CARD_KINDS: readonly CardKind[] = ['my-number-card', 'juki-card'];

export function acceptedCardKinds(policy: { smartphoneCertificates?: boolean }): readonly CardKind[] {
  return policy.smartphoneCertificates === true ? [...CONTRACT_CARD_KINDS, 'smartphone'] : CONTRACT_CARD_KINDS;
}

/** Token strings in EF 0006, mapped to the kind of card that carries them. */
export const CARD_KIND_BY_TOKEN: Readonly<Record<string, CardKind>> = {
  JPKIAPICCTOKEN2: 'my-number-card',
  JPKIAPICCTOKEN: 'juki-card',
  JPKIAPGPSETOKEN: 'smartphone',
};

/** DER prefix of a DigestInfo for SHA-256 (RFC 8017 §9.2 note 1); the 32-byte digest follows. */
export const SHA256_DIGEST_INFO_PREFIX = Uint8Array.of(
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
);

export const SW_OK = 0x9000;
export const SW_SECURITY_NOT_SATISFIED = 0x6982;
export const SW_AUTH_METHOD_BLOCKED = 0x6983;
export const SW_REFERENCE_DATA_BLOCKED = 0x6984;

/** The auth PIN's retry counter after a correct PIN (SPEC.md §2: three wrong PINs lock it). */
export const AUTH_PIN_MAX_TRIES = 3;

/** Largest Le a short READ BINARY asks for here; JPKI tooling reads in chunks of at most 0xFF. */
export const READ_CHUNK_MAX_BYTES = 0xff;

/** No JPKI certificate comes near this; it bounds how long a misbehaving card can keep us reading. */
export const CERTIFICATE_MAX_BYTES = 8192;

export const RSA_2048_SIGNATURE_BYTES = 256;

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data?: Uint8Array;
  /** Expected answer length, 1..256 (256 is encoded as 00). */
  le?: number;
}

export interface ResponseApdu {
  data: Uint8Array;
  sw: number;
}

/** Encodes a short APDU (ISO 7816-4 cases 1–4). */
export function encodeApdu(command: CommandApdu): Uint8Array {
  const data = command.data ?? new Uint8Array(0);
  assertByte(command.cla, 'CLA');
  assertByte(command.ins, 'INS');
  assertByte(command.p1, 'P1');
  assertByte(command.p2, 'P2');
  if (data.length > 0xff) throw new AppError('internal', 'card.apdu_too_long', `APDU data of ${data.length} bytes does not fit a short APDU`);
  const le = command.le;
  if (le !== undefined && (!Number.isInteger(le) || le < 1 || le > 256)) {
    throw new AppError('internal', 'card.apdu_le', `APDU Le ${le} is outside 1..256`);
  }
  const bytes = [command.cla, command.ins, command.p1, command.p2];
  if (data.length > 0) bytes.push(data.length, ...data);
  if (le !== undefined) bytes.push(le & 0xff);
  return Uint8Array.from(bytes);
}

/** Splits a card's answer into data and the status word SW1 SW2. */
export function decodeResponse(response: Uint8Array): ResponseApdu {
  if (response.length < 2) {
    throw new AppError('refused', 'card.unreadable', `card answered ${response.length} bytes, fewer than a status word`);
  }
  const sw = (response[response.length - 2]! << 8) | response[response.length - 1]!;
  return { data: response.slice(0, response.length - 2), sw };
}

export function formatStatusWord(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

export function selectAppletApdu(): Uint8Array {
  return encodeApdu({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x0c, data: JPKI_AID });
}

export function selectFileApdu(fileId: number): Uint8Array {
  return encodeApdu({ cla: 0x00, ins: 0xa4, p1: 0x02, p2: 0x0c, data: Uint8Array.of(fileId >> 8, fileId & 0xff) });
}

export function readBinaryApdu(offset: number, length: number): Uint8Array {
  if (!Number.isInteger(offset) || offset < 0 || offset > 0x7fff) {
    throw new AppError('internal', 'card.apdu_offset', `READ BINARY offset ${offset} is outside 0..7FFF`);
  }
  return encodeApdu({ cla: 0x00, ins: 0xb0, p1: offset >> 8, p2: offset & 0xff, le: length });
}

/** VERIFY with the PIN as ASCII; the caller has checked it is exactly 4 digits. */
export function verifyPinApdu(pin: string): Uint8Array {
  return encodeApdu({ cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x80, data: asciiBytes(pin) });
}

/** VERIFY without data: asks how many tries are left, without spending one. */
export function pinStatusApdu(): Uint8Array {
  return encodeApdu({ cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x80 });
}

export function computeSignatureApdu(digestInfo: Uint8Array): Uint8Array {
  return encodeApdu({ cla: 0x80, ins: 0x2a, p1: 0x00, p2: 0x80, data: digestInfo, le: 256 });
}

export function digestInfoForSha256(digest: Uint8Array): Uint8Array {
  if (digest.length !== 32) {
    throw new AppError('internal', 'card.digest_length', `a SHA-256 digest is 32 bytes, got ${digest.length}`);
  }
  const digestInfo = new Uint8Array(SHA256_DIGEST_INFO_PREFIX.length + digest.length);
  digestInfo.set(SHA256_DIGEST_INFO_PREFIX, 0);
  digestInfo.set(digest, SHA256_DIGEST_INFO_PREFIX.length);
  return digestInfo;
}

/** Total length (header + contents) of a DER element from its first bytes, or undefined if they are not DER. */
export function derTotalLength(header: Uint8Array): number | undefined {
  if (header.length < 2) return undefined;
  const first = header[1]!;
  if (first < 0x80) return 2 + first;
  const lengthBytes = first & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 3 || header.length < 2 + lengthBytes) return undefined;
  let contentLength = 0;
  for (let index = 0; index < lengthBytes; index++) contentLength = contentLength * 256 + header[2 + index]!;
  return 2 + lengthBytes + contentLength;
}

/** Tries left from a VERIFY answer, or undefined when the status word is not about the PIN counter. */
export function triesLeftFromStatusWord(sw: number): number | undefined {
  if ((sw & 0xfff0) === 0x63c0) return sw & 0x0f;
  if (sw === SW_REFERENCE_DATA_BLOCKED || sw === SW_AUTH_METHOD_BLOCKED) return 0;
  return undefined;
}

export function isPinFormatValid(pin: string): boolean {
  return /^[0-9]{4}$/.test(pin);
}

/** A JPKI applet session over one card connection. */
export class JpkiCard {
  private readonly channel: CardChannel;
  private appletSelected = false;

  constructor(channel: CardChannel) {
    this.channel = channel;
  }

  async selectApplet(): Promise<void> {
    await this.expectOk(selectAppletApdu(), 'SELECT applet');
    this.appletSelected = true;
  }

  async readCardKind(): Promise<CardKind> {
    await this.selectFile(JPKI_EF.token, 'SELECT token EF');
    // The token is at most 32 bytes, padded with spaces or zeros on some cards.
    const { data } = await this.expectOk(readBinaryApdu(0, 0x20), 'READ BINARY token');
    const token = String.fromCharCode(...data).replace(/[\u0000 ]+$/, '');
    const kind = CARD_KIND_BY_TOKEN[token];
    if (kind === undefined) throw new AppError('refused', 'card.unreadable', 'card does not carry a known JPKI token');
    return kind;
  }

  async readAuthCertificate(): Promise<Uint8Array> {
    await this.selectFile(JPKI_EF.authCertificate, 'SELECT auth certificate EF');
    const header = (await this.expectOk(readBinaryApdu(0, 4), 'READ BINARY certificate header')).data;
    const totalLength = derTotalLength(header);
    if (totalLength === undefined || header[0] !== 0x30 || totalLength > CERTIFICATE_MAX_BYTES) {
      throw new AppError('refused', 'card.unreadable', 'auth certificate on the card is not a DER certificate');
    }
    return this.readBinary(totalLength, 'READ BINARY certificate');
  }

  async authPinTriesLeft(): Promise<number> {
    await this.selectFile(JPKI_EF.authPin, 'SELECT auth PIN EF');
    const { sw } = decodeResponse(await this.channel.transmit(pinStatusApdu()));
    // 90 00 means the PIN is already verified in this session, so the counter is full.
    if (sw === SW_OK) return AUTH_PIN_MAX_TRIES;
    const triesLeft = triesLeftFromStatusWord(sw);
    if (triesLeft === undefined) throw unexpectedStatus(sw, 'VERIFY (tries left)');
    return triesLeft;
  }

  async verifyAuthPin(pin: string): Promise<PinResult> {
    if (!isPinFormatValid(pin)) throw new AppError('input', 'card.pin_format', 'the PIN must be exactly 4 digits');
    await this.selectFile(JPKI_EF.authPin, 'SELECT auth PIN EF');
    const { sw } = decodeResponse(await this.channel.transmit(verifyPinApdu(pin)));
    if (sw === SW_OK) return { ok: true };
    const triesLeft = triesLeftFromStatusWord(sw);
    if (triesLeft === undefined) throw unexpectedStatus(sw, 'VERIFY');
    return triesLeft === 0 ? { ok: false, locked: true, triesLeft: 0 } : { ok: false, triesLeft };
  }

  async signAuth(digestInfo: Uint8Array): Promise<Uint8Array> {
    await this.selectFile(JPKI_EF.authPrivateKey, 'SELECT auth key EF');
    const { data, sw } = decodeResponse(await this.channel.transmit(computeSignatureApdu(digestInfo)));
    if (sw === SW_SECURITY_NOT_SATISFIED) {
      throw new AppError('refused', 'card.pin_required', 'the card refused to sign: the auth PIN is not verified in this session');
    }
    if (sw === SW_REFERENCE_DATA_BLOCKED || sw === SW_AUTH_METHOD_BLOCKED) {
      throw new AppError('refused', 'card.locked', 'the card refused to sign: the auth PIN is locked');
    }
    if (sw !== SW_OK) throw unexpectedStatus(sw, 'COMPUTE DIGITAL SIGNATURE');
    if (data.length !== RSA_2048_SIGNATURE_BYTES) {
      throw new AppError('refused', 'card.unreadable', `card returned a ${data.length}-byte signature, expected ${RSA_2048_SIGNATURE_BYTES}`);
    }
    return data;
  }

  private async selectFile(fileId: number, commandName: string): Promise<void> {
    if (!this.appletSelected) await this.selectApplet();
    await this.expectOk(selectFileApdu(fileId), commandName);
  }

  /** Reads the selected EF from offset 0 up to length bytes, in chunks a short APDU allows. */
  private async readBinary(length: number, commandName: string): Promise<Uint8Array> {
    const contents = new Uint8Array(length);
    let offset = 0;
    while (offset < length) {
      const chunkLength = Math.min(READ_CHUNK_MAX_BYTES, length - offset);
      const { data } = await this.expectOk(readBinaryApdu(offset, chunkLength), commandName);
      // An empty or oversized chunk would loop forever or overrun: the card is not answering sensibly.
      if (data.length === 0 || data.length > chunkLength) {
        throw new AppError('refused', 'card.unreadable', `card answered ${data.length} bytes to ${commandName} for ${chunkLength}`);
      }
      contents.set(data, offset);
      offset += data.length;
    }
    return contents;
  }

  private async expectOk(command: Uint8Array, commandName: string): Promise<ResponseApdu> {
    const response = decodeResponse(await this.channel.transmit(command));
    if (response.sw !== SW_OK) throw unexpectedStatus(response.sw, commandName);
    return response;
  }
}

function unexpectedStatus(sw: number, commandName: string): AppError {
  return new AppError('refused', 'card.unreadable', `card answered SW ${formatStatusWord(sw)} to ${commandName}`);
}

function assertByte(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new AppError('internal', 'card.apdu_byte', `APDU ${field} ${value} is not a byte`);
  }
}

function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (character) => character.charCodeAt(0));
}
