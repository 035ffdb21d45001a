// Runs one card file as a virtual card plugged into vpcd (drivers/card/vpcd-card.ts), in its own
// process as a real card is its own device: the PC/SC library blocks its caller's thread while
// pcscd resets the card, and the card must answer meanwhile. Used by test/pcsc.ts.
// Usage: vpcd-card-process.ts CARD_FILE PORT; prints "inserted" once plugged in; SIGTERM pulls it out.
import { VpcdCard } from '../drivers/card/vpcd-card.ts';

const [cardFile, port] = process.argv.slice(2);
if (cardFile === undefined || port === undefined || !/^\d+$/.test(port)) {
  process.stderr.write('usage: vpcd-card-process.ts CARD_FILE PORT\n');
  process.exit(2);
}
const card = new VpcdCard(cardFile, { port: Number(port) });
try {
  await card.insert();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
process.on('SIGTERM', () => {
  void card.remove().then(() => process.exit(0));
});
process.stdout.write('inserted\n');
