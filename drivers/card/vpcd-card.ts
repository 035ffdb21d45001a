// A simulated JPKI card on a real PC/SC stack: it plugs into vsmartcard's vpcd (the virtual reader
// driver inside pcscd) and answers the APDUs pcscd passes on with the same card logic as the
// simulated reader (SimulatedCard), so a kiosk using the PC/SC reader driver can be tested without
// hardware (docs/runtime-facts.md, "Smart cards").
//
// vpcd listens on a TCP port (35963 unless its reader.conf says otherwise) and the card connects to
// it. Every message either way is a 2-byte big-endian length and a payload. A 1-byte payload from
// vpcd is a control byte: 0 power off, 1 power on, 2 reset (no answer), 4 "send your ATR"; any
// longer payload is an APDU, answered with the response APDU. Closing the connection is the card
// leaving the reader.

import { connect, type Socket } from 'node:net';
import { AppError } from '../../core/errors.ts';
import { readCardFile } from './card-file.ts';
import { SimulatedCard } from './simulated-card.ts';

export const VPCD_DEFAULT_PORT = 35963;

const CONTROL_POWER_OFF = 0x00;
const CONTROL_POWER_ON = 0x01;
const CONTROL_RESET = 0x02;
const CONTROL_GET_ATR = 0x04;

/**
 * TS 3B (direct convention), T0 80 (TD1 follows, no historical bytes), TD1 80 (TD2 follows, T=0),
 * TD2 01 (T=1), TCK 01 (XOR of T0..TD2): a card offering T=1, so pcscd passes APDUs through unchanged.
 */
export const VPCD_CARD_ATR = Uint8Array.of(0x3b, 0x80, 0x80, 0x01, 0x01);

export interface VpcdCardOptions {
  host?: string;
  port?: number;
}

/** One card file "inserted" into a vpcd reader slot while connected. */
export class VpcdCard {
  private readonly cardFilePath: string;
  private readonly host: string;
  private readonly port: number;
  private socket: Socket | undefined;
  private powered: SimulatedCard | undefined;
  private pending = Buffer.alloc(0);
  private queue: Promise<void> = Promise.resolve();

  constructor(cardFilePath: string, options: VpcdCardOptions = {}) {
    this.cardFilePath = cardFilePath;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? VPCD_DEFAULT_PORT;
  }

  isInserted(): boolean {
    return this.socket !== undefined;
  }

  /** Connects to vpcd: pcscd then sees a card on the reader. The card file is checked first. */
  async insert(): Promise<void> {
    readCardFile(this.cardFilePath);
    if (this.socket !== undefined) return;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const attempt = connect({ host: this.host, port: this.port });
      attempt.once('connect', () => {
        attempt.off('error', reject);
        resolve(attempt);
      });
      attempt.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          new AppError('unavailable', 'card.vpcd_unreachable', `cannot reach vpcd at ${this.host}:${this.port} (${error.code ?? 'error'}): is pcscd running with vsmartcard-vpcd?`),
        );
      });
    });
    socket.setNoDelay(true);
    this.socket = socket;
    this.pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => this.receive(socket, chunk));
    socket.on('error', () => this.forget(socket));
    socket.on('close', () => this.forget(socket));
  }

  /** Takes the card off the reader: pcscd sees it gone, and an open card handle fails with "removed". */
  async remove(): Promise<void> {
    const socket = this.socket;
    if (socket === undefined) return;
    this.forget(socket);
    await new Promise<void>((resolve) => {
      if (socket.destroyed) resolve();
      else socket.once('close', () => resolve()).destroy();
    });
  }

  private forget(socket: Socket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.powered?.detach('the card was removed from the reader');
    this.powered = undefined;
  }

  private receive(socket: Socket, chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 2) {
      const length = this.pending.readUInt16BE(0);
      if (this.pending.length < 2 + length) break;
      const payload = new Uint8Array(this.pending.subarray(2, 2 + length));
      this.pending = this.pending.subarray(2 + length);
      // vpcd waits for each answer before it sends the next message; the queue keeps that order.
      this.queue = this.queue.then(() => this.handle(socket, payload));
    }
  }

  private async handle(socket: Socket, payload: Uint8Array): Promise<void> {
    if (this.socket !== socket) return;
    if (payload.length === 1) {
      this.control(socket, payload[0]!);
      return;
    }
    // A powered-off card that gets an APDU is powered first, as a reader's cold reset would do.
    this.powered ??= new SimulatedCard(this.cardFilePath);
    let response: Uint8Array;
    try {
      response = await this.powered.transmit(payload);
    } catch {
      // The card file says "no-answer". An empty answer would leave vpcd 3.3 waiting for ever
      // (measured), so the card goes mute by leaving: the host's transmit fails, as with a dead card.
      this.forget(socket);
      socket.destroy();
      return;
    }
    send(socket, response);
  }

  private control(socket: Socket, byte: number): void {
    if (byte === CONTROL_GET_ATR) {
      send(socket, VPCD_CARD_ATR);
      return;
    }
    if (byte === CONTROL_POWER_OFF) {
      this.powered?.detach('the card was powered off');
      this.powered = undefined;
      return;
    }
    if (byte === CONTROL_POWER_ON || byte === CONTROL_RESET) {
      // Each power-up starts from a card reset: nothing selected, PIN not verified.
      this.powered?.detach('the card was reset');
      this.powered = new SimulatedCard(this.cardFilePath);
    }
    // Any other control byte is unknown to this protocol version and has no answer.
  }
}

function send(socket: Socket, payload: Uint8Array): void {
  const frame = Buffer.alloc(2 + payload.length);
  frame.writeUInt16BE(payload.length, 0);
  frame.set(payload, 2);
  socket.write(frame);
}
