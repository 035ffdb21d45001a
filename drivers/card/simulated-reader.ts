// A card reader slot for the simulated kiosk: a card file is "placed" on it and "removed" again.

import { AppError } from '../../core/errors.ts';
import type { CardChannel, CardReader } from '../../core/ports.ts';
import { readCardFile } from './card-file.ts';
import { SimulatedCard } from './simulated-card.ts';

export class SimulatedCardReader implements CardReader {
  readonly name: string;
  private cardFilePath: string | undefined;
  private connection: SimulatedCard | undefined;

  constructor(name: string) {
    this.name = name;
  }

  /** Puts a card on the reader; the file is checked now so a bad file fails where it is named. */
  place(cardFilePath: string): void {
    readCardFile(cardFilePath);
    this.endConnection('the card was replaced');
    this.cardFilePath = cardFilePath;
  }

  remove(): void {
    this.endConnection('the card was removed from the reader');
    this.cardFilePath = undefined;
  }

  hasCard(): boolean {
    return this.cardFilePath !== undefined;
  }

  /** Each connection starts from a card reset: nothing selected, PIN not verified. */
  async connect(): Promise<CardChannel> {
    if (this.cardFilePath === undefined) throw new AppError('refused', 'card.absent', 'no card on the reader');
    this.endConnection('the card was reset by a new connection');
    this.connection = new SimulatedCard(this.cardFilePath);
    return this.connection;
  }

  async disconnect(): Promise<void> {
    this.endConnection('the card connection was closed');
  }

  private endConnection(reason: string): void {
    this.connection?.detach(reason);
    this.connection = undefined;
  }
}
