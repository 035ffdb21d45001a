// A real card reader through PC/SC, using the optional npm package "smartcard" 3.x (N-API; works on
// Node, Bun and in the compiled binary). It is loaded only when a kiosk asks for a real reader, so
// installs and builds without libpcsclite keep working and only asking for a real reader fails.
// Tested against pcscd with vsmartcard's virtual reader (docs/runtime-facts.md, "Smart cards").

import { AppError } from '../../core/errors.ts';
import type { CardChannel, CardReader } from '../../core/ports.ts';

/** The slice of smartcard 3.x's low-level API this driver uses (see its README: Context, Reader, Card). */
interface SmartcardModule {
  Context: new () => PcscContext;
  SCARD_SHARE_SHARED: number;
  SCARD_PROTOCOL_T0: number;
  SCARD_PROTOCOL_T1: number;
  SCARD_RESET_CARD: number;
  SCARD_STATE_PRESENT: number;
}

interface PcscContext {
  listReaders(): PcscReader[];
  close(): void;
}

interface PcscReader {
  readonly name: string;
  readonly state: number;
  connect(shareMode?: number, protocol?: number): Promise<PcscCard>;
}

interface PcscCard {
  transmit(command: Buffer, options?: { autoGetResponse?: boolean }): Promise<Buffer>;
  disconnect(disposition?: number): void;
}

export interface PcscCardReaderOptions {
  /** The npm package to load; only tests name another one, to prove the missing-package message. */
  moduleName?: string;
}

export class PcscCardReader implements CardReader {
  /** The PC/SC reader name (e.g. "Virtual PCD 00 00"); empty means the first reader found. */
  readonly name: string;
  private readonly moduleName: string;
  private session: { context: PcscContext; card: PcscCard; smartcard: SmartcardModule } | undefined;

  constructor(name: string, options: PcscCardReaderOptions = {}) {
    this.name = name;
    this.moduleName = options.moduleName ?? 'smartcard';
  }

  async connect(): Promise<CardChannel> {
    await this.disconnect();
    const smartcard = await this.loadSmartcard();
    const context = openContext(smartcard);
    try {
      const reader = this.findReader(context);
      if ((reader.state & smartcard.SCARD_STATE_PRESENT) === 0) throw new AppError('refused', 'card.absent', 'no card on the reader');
      const card = await reader
        .connect(smartcard.SCARD_SHARE_SHARED, smartcard.SCARD_PROTOCOL_T0 | smartcard.SCARD_PROTOCOL_T1)
        .catch((error: unknown) => {
          throw translateError(error, 'card did not answer the reader');
        });
      this.session = { context, card, smartcard };
      return { transmit: (command) => transmit(card, command) };
    } catch (error) {
      context.close();
      throw error;
    }
  }

  /** Resets the card on the way out, so a verified PIN never outlives this customer's session. */
  async disconnect(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session === undefined) return;
    try {
      session.card.disconnect(session.smartcard.SCARD_RESET_CARD);
    } finally {
      session.context.close();
    }
  }

  private findReader(context: PcscContext): PcscReader {
    let readers: PcscReader[];
    try {
      readers = context.listReaders();
    } catch {
      // pcscd answers "no readers" with an error rather than an empty list.
      readers = [];
    }
    const reader = this.name === '' ? readers[0] : readers.find((candidate) => candidate.name === this.name);
    if (reader === undefined) {
      const wanted = this.name === '' ? 'any PC/SC reader' : `the PC/SC reader "${this.name}"`;
      throw new AppError('unavailable', 'card.reader_missing', `cannot find ${wanted}`);
    }
    return reader;
  }

  /**
   * Fails now, at start-up, rather than at the first card: 'card.pcsc_unavailable' without the
   * package or libpcsclite, 'card.pcsc_service_down' when pcscd does not answer.
   */
  async assertAvailable(): Promise<void> {
    openContext(await this.loadSmartcard()).close();
  }

  /** The reader this driver would use and whether a card lies on it, for `kiosk diagnose`; fails as connect() would. */
  async readiness(): Promise<{ reader: string; cardPresent: boolean }> {
    const smartcard = await this.loadSmartcard();
    const context = openContext(smartcard);
    try {
      const reader = this.findReader(context);
      return { reader: reader.name, cardPresent: (reader.state & smartcard.SCARD_STATE_PRESENT) !== 0 };
    } finally {
      context.close();
    }
  }

  private async loadSmartcard(): Promise<SmartcardModule> {
    try {
      // The literal name lets `bun build --compile` embed the package and its .node addon, which
      // the binary then loads from inside itself (docs/runtime-facts.md, "Smart cards").
      const loaded = (this.moduleName === 'smartcard' ? await import('smartcard') : await import(this.moduleName)) as SmartcardModule & { default?: SmartcardModule };
      return loaded.default ?? loaded;
    } catch {
      // Missing package and missing libpcsclite (the addon fails to load) need the same fix.
      throw new AppError(
        'input',
        'card.pcsc_unavailable',
        'PC/SC support is not installed: install libpcsclite and the npm package "smartcard"',
      );
    }
  }
}

function openContext(smartcard: SmartcardModule): PcscContext {
  try {
    return new smartcard.Context();
  } catch {
    throw new AppError('unavailable', 'card.pcsc_service_down', 'cannot reach the PC/SC service (pcscd): is it running?');
  }
}

async function transmit(card: PcscCard, command: Uint8Array): Promise<Uint8Array> {
  try {
    // T=0 cards answer 61 xx / 6C xx; the library turns those into the full answer.
    const response = await card.transmit(Buffer.from(command), { autoGetResponse: true });
    return new Uint8Array(response);
  } catch (error) {
    throw translateError(error, 'card did not answer');
  }
}

function translateError(error: unknown, message: string): AppError {
  if (error instanceof AppError) return error;
  // The addon rejects with a plain Error "Card was removed" for SCARD_W_REMOVED_CARD (measured with
  // smartcard 3.7); its CardRemovedError class is what the high-level Devices API throws.
  if (error instanceof Error && (error.name === 'CardRemovedError' || /\bremoved\b/i.test(error.message))) {
    return new AppError('refused', 'card.absent', 'the card was removed from the reader');
  }
  return new AppError('refused', 'card.unreadable', message);
}
