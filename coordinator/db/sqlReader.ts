/**
 * Reads rows with SQL the GraphQL lists build (theGraphSql.ts), straight on the database's driver instead of through
 * Prisma's raw query path: on the all-distinct GraphQL bench, Prisma's `$queryRaw` spent more on a page of jobs than
 * SQLite did (it prepares every statement again, then converts every value of every row), issue #16.
 *
 * SQLite: a read-only connection of its own that keeps its prepared statements, one per SQL text (a query shape;
 * the values are bound). It sees what is committed, never a transaction still open on Prisma's connection.
 * PostgreSQL: the pool Prisma's adapter uses, statements unnamed (planned for their values each time, as Prisma's).
 * Rows come as the drivers give them, which for the coordinator's columns (Int and String) are Prisma's values too.
 */
import Database from "better-sqlite3";
import type { Sql } from "@prisma/client/runtime/client";
import type pg from "pg";
import { sqliteFile } from "./schema.ts";

export interface SqlReader {
  rows<Row>(query: Sql): Promise<Row[]>;
  close(): Promise<void>;
}

/** Prepared statements kept per SQLite connection: each is one query shape, and clients use a few dozen. */
const KEPT_STATEMENTS = 500;

export function sqliteReader(url: string): SqlReader {
  // Opened on first use: the file may not exist until migrations have run.
  let connection: Database.Database | undefined;
  const statements = new Map<string, Database.Statement>();
  const statementFor = (text: string) => {
    let statement = statements.get(text);
    if (statement !== undefined) {
      // Most recently used last: the first key is the one to drop.
      statements.delete(text);
    } else {
      connection ??= new Database(sqliteFile(url), { readonly: true, fileMustExist: true });
      statement = connection.prepare(text);
      if (statements.size >= KEPT_STATEMENTS) statements.delete(statements.keys().next().value!);
    }
    statements.set(text, statement);
    return statement;
  };
  return {
    rows: async <Row>(query: Sql) => statementFor(query.sql).all(...(query.values as unknown[])) as Row[],
    close: async () => {
      statements.clear();
      connection?.close();
      connection = undefined;
    },
  };
}

export function postgresReader(pool: pg.Pool): SqlReader {
  return {
    rows: async <Row>(query: Sql) => (await pool.query(query.text, query.values as unknown[])).rows as Row[],
    // The pool is Prisma's adapter's: it ends it.
    close: async () => {},
  };
}
