// A JPKI card in software: answers the same APDUs a My Number card does (SPEC.md §2), keeps the
// selection and PIN state of one connection, and persists the PIN retry counter in its card file.

import { createPrivateKey } from 'node:crypto';
import { AppError } from '../../core/errors.ts';
import { AUTH_PIN_MAX_TRIES, JPKI_AID, JPKI_EF, SW_OK, SW_REFERENCE_DATA_BLOCKED, SW_SECURITY_NOT_SATISFIED } from '../../core/jpki.ts';
import type { CardChannel } from '../../core/ports.ts';
import { signDigestInfo } from '../pki/raw-sign.ts';
import { readCardFile, writeCardFile, type CardFile } from './card-file.ts';

const SW_WRONG_LENGTH = 0x6700;
const SW_FILE_INCOMPATIBLE = 0x6981;
const SW_NO_CURRENT_EF = 0x6986;
const SW_INCORRECT_DATA = 0x6a80;
const SW_FILE_NOT_FOUND = 0x6a82;
const SW_INCORRECT_P1_P2 = 0x6a86;
const SW_OFFSET_OUTSIDE_FILE = 0x6b00;
const SW_INS_NOT_SUPPORTED = 0x6d00;
const SW_CLA_NOT_SUPPORTED = 0x6e00;
const SW_NO_PRECISE_DIAGNOSIS = 0x6f00;

const TOKEN_BY_KIND: Record<CardFile['kind'], string> = {
  'my-number-card': 'JPKIAPICCTOKEN2',
  'juki-card': 'JPKIAPICCTOKEN',
  smartphone: 'JPKIAPGPSETOKEN',
};

/** Token EF contents: the ASCII token padded with spaces to 32 bytes, as cards store it. */
function tokenFile(kind: CardFile['kind']): Uint8Array {
  return Uint8Array.from(TOKEN_BY_KIND[kind].padEnd(32, ' '), (character) => character.charCodeAt(0));
}

interface ParsedCommand {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Uint8Array;
  le: number | undefined;
}

/** Parses a short APDU; undefined when its length bytes do not add up. */
function parseCommand(command: Uint8Array): ParsedCommand | undefined {
  if (command.length < 4) return undefined;
  const [cla, ins, p1, p2] = [command[0]!, command[1]!, command[2]!, command[3]!];
  if (command.length === 4) return { cla, ins, p1, p2, data: new Uint8Array(0), le: undefined };
  const fifth = command[4]!;
  if (command.length === 5) return { cla, ins, p1, p2, data: new Uint8Array(0), le: fifth === 0 ? 256 : fifth };
  if (fifth === 0) return undefined;
  const data = command.slice(5, 5 + fifth);
  if (command.length === 5 + fifth) return { cla, ins, p1, p2, data, le: undefined };
  if (command.length === 6 + fifth) {
    const le = command[5 + fifth]!;
    return { cla, ins, p1, p2, data, le: le === 0 ? 256 : le };
  }
  return undefined;
}

function status(sw: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const response = new Uint8Array(data.length + 2);
  response.set(data, 0);
  response[data.length] = sw >> 8;
  response[data.length + 1] = sw & 0xff;
  return response;
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}

/** One connection to a simulated card: selection and PIN state start fresh, as after a card reset. */
export class SimulatedCard implements CardChannel {
  private readonly cardFilePath: string;
  private card: CardFile;
  private readonly certificate: Uint8Array;
  private appletSelected = false;
  private currentFile: number | undefined;
  private pinVerified = false;
  private detachedReason: string | undefined;

  constructor(cardFilePath: string) {
    this.cardFilePath = cardFilePath;
    this.card = readCardFile(cardFilePath);
    this.certificate = new Uint8Array(Buffer.from(this.card.authCertificateDerBase64, 'base64'));
    // Parsed once here only to reject a broken key when the card is placed, not mid-transaction.
    try {
      createPrivateKey(this.card.authPrivateKeyPem);
    } catch {
      throw new AppError('input', 'card.file_invalid', 'field "authPrivateKeyPem" is not a readable private key', cardFilePath);
    }
  }

  /** Ends this connection: later transmits fail as they would on a real reader. */
  detach(reason: string): void {
    this.detachedReason = reason;
  }

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    if (this.detachedReason !== undefined) throw new AppError('refused', 'card.absent', this.detachedReason);
    if (this.card.fault === 'no-answer') throw new AppError('refused', 'card.unreadable', 'card did not answer');
    if (this.card.fault === 'unreadable') return status(SW_NO_PRECISE_DIAGNOSIS);
    const parsed = parseCommand(command);
    if (parsed === undefined) return status(SW_WRONG_LENGTH);
    return this.dispatch(parsed);
  }

  private dispatch(command: ParsedCommand): Uint8Array {
    if (command.cla !== 0x00 && command.cla !== 0x80) return status(SW_CLA_NOT_SUPPORTED);
    // COMPUTE DIGITAL SIGNATURE is JPKI's proprietary class 80; everything else is ISO class 00.
    const expectedClass = command.ins === 0x2a ? 0x80 : 0x00;
    switch (command.ins) {
      case 0xa4:
      case 0xb0:
      case 0x20:
      case 0x2a:
        if (command.cla !== expectedClass) return status(SW_CLA_NOT_SUPPORTED);
        break;
      default:
        return status(SW_INS_NOT_SUPPORTED);
    }
    if (command.ins === 0xa4) return this.select(command);
    if (command.ins === 0xb0) return this.readBinary(command);
    if (command.ins === 0x20) return this.verify(command);
    return this.computeSignature(command);
  }

  private select(command: ParsedCommand): Uint8Array {
    if (command.p1 === 0x04) {
      if (!sameBytes(command.data, JPKI_AID)) return status(SW_FILE_NOT_FOUND);
      this.appletSelected = true;
      this.currentFile = undefined;
      return status(SW_OK);
    }
    if (command.p1 !== 0x02) return status(SW_INCORRECT_P1_P2);
    if (command.data.length !== 2) return status(SW_WRONG_LENGTH);
    const fileId = (command.data[0]! << 8) | command.data[1]!;
    const known: number[] = Object.values(JPKI_EF);
    if (!this.appletSelected || !known.includes(fileId)) return status(SW_FILE_NOT_FOUND);
    this.currentFile = fileId;
    return status(SW_OK);
  }

  private readBinary(command: ParsedCommand): Uint8Array {
    if (this.currentFile === undefined) return status(SW_NO_CURRENT_EF);
    const contents = this.readableContents(this.currentFile);
    if (contents === undefined) return status(SW_FILE_INCOMPATIBLE);
    const offset = (command.p1 << 8) | command.p2;
    if (offset >= contents.length) return status(SW_OFFSET_OUTSIDE_FILE);
    const length = command.le ?? 256;
    return status(SW_OK, contents.slice(offset, offset + length));
  }

  private readableContents(fileId: number): Uint8Array | undefined {
    if (fileId === JPKI_EF.token) return tokenFile(this.card.kind);
    if (fileId === JPKI_EF.authCertificate) return this.certificate;
    return undefined;
  }

  private verify(command: ParsedCommand): Uint8Array {
    if (command.p1 !== 0x00 || command.p2 !== 0x80) return status(SW_INCORRECT_P1_P2);
    if (this.currentFile !== JPKI_EF.authPin) return status(SW_NO_CURRENT_EF);
    if (this.card.pinTriesLeft === 0) return status(SW_REFERENCE_DATA_BLOCKED);
    if (command.data.length === 0) return status(0x63c0 | this.card.pinTriesLeft);
    const pin = Uint8Array.from(this.card.pin, (character) => character.charCodeAt(0));
    if (sameBytes(command.data, pin)) {
      this.pinVerified = true;
      this.savePinTriesLeft(AUTH_PIN_MAX_TRIES);
      return status(SW_OK);
    }
    this.pinVerified = false;
    this.savePinTriesLeft(this.card.pinTriesLeft - 1);
    return status(0x63c0 | this.card.pinTriesLeft);
  }

  private computeSignature(command: ParsedCommand): Uint8Array {
    if (command.p1 !== 0x00 || command.p2 !== 0x80) return status(SW_INCORRECT_P1_P2);
    if (this.currentFile !== JPKI_EF.authPrivateKey) return status(SW_NO_CURRENT_EF);
    if (this.card.pinTriesLeft === 0) return status(SW_REFERENCE_DATA_BLOCKED);
    if (!this.pinVerified) return status(SW_SECURITY_NOT_SATISFIED);
    if (command.data.length === 0) return status(SW_WRONG_LENGTH);
    // The card pads whatever DigestInfo the host sent (PKCS#1 v1.5 block type 1) and applies the key.
    try {
      return status(SW_OK, signDigestInfo(this.card.authPrivateKeyPem, command.data));
    } catch {
      return status(SW_INCORRECT_DATA);
    }
  }

  /** The counter lives in the card file, written on every change, like a card's EEPROM. */
  private savePinTriesLeft(pinTriesLeft: number): void {
    if (pinTriesLeft === this.card.pinTriesLeft) return;
    this.card = { ...this.card, pinTriesLeft };
    writeCardFile(this.cardFilePath, this.card);
  }
}
