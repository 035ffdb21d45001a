// The thread that talks to PostgreSQL for drivers/store/postgres-database.ts: the store's port is
// synchronous (as SQLite is), node-postgres is not, so the calling thread posts one request and
// sleeps on a shared flag until this thread has posted the answer (docs/postgres.md, "The bridge").

import { workerData, type MessagePort } from 'node:worker_threads';
import pg from 'pg';

export interface PostgresWorkerInput {
  port: MessagePort;
  /** Index 0: 0 while a request is in flight, 1 once its answer is on the port. */
  flag: Int32Array;
  connection: pg.ClientConfig;
}

export type PostgresRequest =
  | { kind: 'connect' }
  | { kind: 'query'; text: string; values: unknown[] }
  | { kind: 'exec'; text: string }
  | { kind: 'close' };

export type PostgresAnswer =
  | { ok: true; rows: Record<string, unknown>[]; rowCount: number }
  | { ok: false; message: string; code?: string; constraint?: string; table?: string };

function parsers(): void {
  // bigint and numeric (COUNT, SUM, BIGINT columns) as numbers, as SQLite gives them: ids, yen and
  // milliseconds are all far below 2^53.
  pg.types.setTypeParser(pg.types.builtins.INT8, Number);
  pg.types.setTypeParser(pg.types.builtins.NUMERIC, Number);
}

function valueForPg(value: unknown): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** What an error may say: the message and codes, never `detail` (it quotes the row's values). */
function failure(error: unknown): PostgresAnswer {
  const known = error as { message?: unknown; code?: unknown; constraint?: unknown; table?: unknown };
  return {
    ok: false,
    message: typeof known.message === 'string' ? known.message : String(error),
    ...(typeof known.code === 'string' ? { code: known.code } : {}),
    ...(typeof known.constraint === 'string' ? { constraint: known.constraint } : {}),
    ...(typeof known.table === 'string' ? { table: known.table } : {}),
  };
}

async function answer(client: pg.Client, request: PostgresRequest): Promise<PostgresAnswer> {
  switch (request.kind) {
    case 'connect':
      await client.connect();
      return { ok: true, rows: [], rowCount: 0 };
    case 'query': {
      const result = await client.query({ text: request.text, values: request.values.map(valueForPg) });
      return { ok: true, rows: result.rows, rowCount: result.rowCount ?? 0 };
    }
    case 'exec':
      await client.query(request.text);
      return { ok: true, rows: [], rowCount: 0 };
    case 'close':
      await client.end();
      return { ok: true, rows: [], rowCount: 0 };
  }
}

function serve(input: PostgresWorkerInput): void {
  parsers();
  const client = new pg.Client(input.connection);
  // A connection the server dropped: every later request answers with this error.
  let lost: PostgresAnswer | undefined;
  client.on('error', (error) => {
    lost = failure(error);
  });
  input.port.on('message', (request: PostgresRequest) => {
    const reply = (result: PostgresAnswer) => {
      input.port.postMessage(result);
      Atomics.store(input.flag, 0, 1);
      Atomics.notify(input.flag, 0);
    };
    if (lost) return reply(lost);
    answer(client, request).then(reply, (error: unknown) => reply(failure(error)));
  });
}

if (workerData && (workerData as Partial<PostgresWorkerInput>).port) serve(workerData as PostgresWorkerInput);
