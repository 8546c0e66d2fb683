/**
 * Reads rows with SQL the GraphQL lists build (theGraphSql.ts), straight on the database's driver instead of through
 * Prisma's raw query path: on the all-distinct GraphQL bench, Prisma's `$queryRaw` spent more on a page of jobs than
 * SQLite did (it prepares every statement again, then converts every value of every row), issue #16.
 *
 * SQLite: a read-only connection of its own, in a thread of its own, that keeps its prepared statements, one per SQL
 * text (a query shape; the values are bound). SQLite runs a statement synchronously: on the event loop that answers
 * HTTP it took a third of the loop's time under load (on a thread of its own it runs beside it, on the other core),
 * and a read that found the file locked by the indexer's transaction (a large one spills into the file before it
 * commits) waited there, holding up the very loop that transaction needed to finish. On its thread, such a read
 * waits for the commit while everything else goes on. It sees what is committed, never a transaction still open
 * (Prisma's own reads, on the indexer's connection, see that transaction's rows before it commits). The commit in
 * turn waits for a read in progress to end, on the indexer's side: a list's read is a few milliseconds at most
 * (pages of at most 1,000, skip at most 5,000).
 * PostgreSQL: the pool Prisma's adapter uses, statements unnamed (planned for their values each time, as Prisma's).
 * Rows come as the drivers give them, which for the coordinator's columns (Int and String) are Prisma's values too.
 */
import Database from "better-sqlite3";
import type { Sql } from "@prisma/client/runtime/client";
import type pg from "pg";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { LRUCache } from "lru-cache";
import { sqliteFile } from "./schema.ts";

export interface SqlReader {
  rows<Row>(query: Sql): Promise<Row[]>;
  close(): Promise<void>;
}

/** Prepared statements kept per SQLite connection: each is one query shape, and clients use a few dozen. */
const KEPT_STATEMENTS = 500;

/** How long a read waits for the file while the indexer's transaction holds it, before it fails. */
const BUSY_WAIT_MS = 60_000;

/** A read-only connection's statement for an SQL text, prepared once and kept (the least recently used dropped). */
function statementsOf(url: string): (text: string) => Database.Statement {
  // A read waits for the indexer's commit as long as a large one may take (better-sqlite3's default is 5 s).
  const connection = new Database(sqliteFile(url), { readonly: true, fileMustExist: true, timeout: BUSY_WAIT_MS });
  const statements = new LRUCache<string, Database.Statement>({
    max: KEPT_STATEMENTS,
    memoMethod: (text) => connection.prepare(text),
  });
  return (text) => statements.memo(text);
}

interface Asked {
  id: number;
  text: string;
  values: unknown[];
}
type Answered = { id: number; rows: unknown[] } | { id: number; error: { message: string; code?: string } };

/** One reader thread and the reads waiting for it. */
function startThread(url: string) {
  const thread = new Worker(new URL(import.meta.url), {
    workerData: { sqliteReaderOf: url },
    // It holds statements and a page of rows at a time: a small heap (the coordinator's 300 MiB memory goal).
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 },
  });
  const waiting = new Map<number, { resolve(rows: unknown[]): void; reject(error: Error): void }>();
  let nextId = 0;
  let ended: Error | undefined;
  // The thread keeps the process alive only while a read waits for it.
  thread.unref();
  thread.on("message", (answer: Answered) => {
    const asker = waiting.get(answer.id);
    // (An answer the thread sent as it was ended: its read has been failed already.)
    if (asker === undefined) return;
    waiting.delete(answer.id);
    if (waiting.size === 0) thread.unref();
    if ("rows" in answer) asker.resolve(answer.rows);
    else asker.reject(Object.assign(new Error(answer.error.message), { code: answer.error.code }));
  });
  const end = (error: Error) => {
    ended ??= error;
    for (const asker of waiting.values()) asker.reject(ended);
    waiting.clear();
  };
  thread.on("error", end);
  thread.on("exit", (code) => end(new Error(`the SQLite reader thread exited (code ${code})`)));
  return {
    /** Whether it has stopped (failed, or was terminated): reads go to a new one. */
    ended: () => ended !== undefined,
    rows: (query: Sql) =>
      new Promise<unknown[]>((resolve, reject) => {
        if (waiting.size === 0) thread.ref();
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        thread.postMessage({ id, text: query.sql, values: query.values } satisfies Asked);
      }),
    terminate: () => thread.terminate(),
  };
}

export function sqliteReader(url: string): SqlReader {
  // Started on first use (the file may not exist until migrations have run), and again should it stop.
  let thread: ReturnType<typeof startThread> | undefined;
  let closed = false;
  return {
    rows: async <Row>(query: Sql) => {
      if (closed) throw new Error("the database is closed: the SQLite reader reads no more");
      if (thread === undefined || thread.ended()) thread = startThread(url);
      return (await thread.rows(query)) as Row[];
    },
    close: async () => {
      closed = true;
      await thread?.terminate();
      thread = undefined;
    },
  };
}

export function postgresReader(pool: pg.Pool): SqlReader {
  return {
    rows: async <Row>(query: Sql) => (await pool.query(query.text, query.values as unknown[])).rows as Row[],
    // The pool is shared with Prisma's adapter: openDatabase ends it.
    close: async () => {},
  };
}

// In the thread sqliteReader starts (and no other that happens to import this module).
const readerOf = (workerData as { sqliteReaderOf?: string } | null)?.sqliteReaderOf;
if (!isMainThread && parentPort !== null && readerOf !== undefined) {
  const port = parentPort;
  let statementFor: ((text: string) => Database.Statement) | undefined;
  port.on("message", ({ id, text, values }: Asked) => {
    let answer: Answered;
    try {
      statementFor ??= statementsOf(readerOf);
      answer = { id, rows: statementFor(text).all(...values) };
    } catch (e) {
      answer = { id, error: { message: (e as Error).message, code: (e as { code?: string }).code } };
    }
    port.postMessage(answer);
  });
}
