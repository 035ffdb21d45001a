// The thread that talks to PostgreSQL for drivers/store/postgres-database.ts: the store's port is
// synchronous (as SQLite is), node-postgres is not, so the calling thread posts one request and
// sleeps on a shared flag until this thread has posted the answer (docs/postgres.md, "The bridge").
//
// Plain JavaScript, the one file of the code base that is: Node 20 runs no TypeScript in a worker
// without a loader (tsx), and loading one there costs ~250 ms per connection. The messages are
// typed in postgres-database.ts (PostgresRequest, PostgresAnswer); this file follows them.

import { workerData } from 'node:worker_threads';
import pg from 'pg';

function parsers() {
  // bigint and numeric (COUNT, SUM, BIGINT columns) as numbers, as SQLite gives them: ids, yen and
  // milliseconds are all far below 2^53.
  pg.types.setTypeParser(pg.types.builtins.INT8, Number);
  pg.types.setTypeParser(pg.types.builtins.NUMERIC, Number);
}

function valueForPg(value) {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The connection is gone (server down, restarted, unreachable), not the statement refused. */
function isConnectionLoss(error) {
  const code = typeof error?.code === 'string' ? error.code : '';
  const message = typeof error?.message === 'string' ? error.message : '';
  // SQLSTATE 08 connection exception, 57P01-57P03 shutdown / cannot connect now.
  return SOCKET_CODES.has(code) || /^08/.test(code) || /^57P0[123]$/.test(code) || /Connection terminated|not queryable|timeout expired/i.test(message);
}

/** What an error may say: the message and codes, never `detail` (it quotes the row's values). */
function failure(error, lost = false) {
  const answer = { ok: false, message: typeof error?.message === 'string' ? error.message : String(error), connectionLost: lost || isConnectionLoss(error) };
  for (const field of ['code', 'constraint', 'table']) if (typeof error?.[field] === 'string') answer[field] = error[field];
  return answer;
}

const done = { ok: true, rows: [], rowCount: 0 };

async function answer(client, request) {
  switch (request.kind) {
    case 'connect':
      await client.connect();
      return done;
    case 'reconnect':
      return done; // handled in serve(): a new client
    case 'query': {
      const result = await client.query({ text: request.text, values: request.values.map(valueForPg) });
      return { ok: true, rows: result.rows, rowCount: result.rowCount ?? 0 };
    }
    case 'exec':
      await client.query(request.text);
      return done;
    case 'close':
      await client.end();
      return done;
    default:
      return { ok: false, message: `unknown request ${String(request.kind)}` };
  }
}

function serve(input) {
  parsers();
  // A connection the server dropped answers every later request with its error, until the calling
  // thread, outside any transaction, asks for a new one (`reconnect`).
  let lost;
  const open = () => {
    const client = new pg.Client(input.connection);
    lost = undefined;
    client.on('error', (error) => {
      lost = failure(error, true);
    });
    return client;
  };
  let client = open();
  input.port.on('message', (request) => {
    const reply = (result) => {
      input.port.postMessage(result);
      Atomics.store(input.flag, 0, 1);
      Atomics.notify(input.flag, 0);
    };
    if (request.kind === 'reconnect') {
      client.end().catch(() => undefined);
      client = open();
      return void client.connect().then(() => reply(done), (error) => reply(failure(error, true)));
    }
    if (lost) return reply(lost);
    answer(client, request).then(reply, (error) => reply(failure(error)));
  });
}

if (workerData?.port) serve(workerData);
