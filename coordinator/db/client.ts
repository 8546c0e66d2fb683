/**
 * Opens the coordinator's database: SQLite for `file:` URLs (the default), PostgreSQL for postgresql:// URLs,
 * each through its generated Prisma client and driver adapter. Both clients come from one data model, so the
 * SQLite client's type stands for both. Beside the client, a reader for the SQL the GraphQL lists build
 * (sqlReader.ts), closed with it.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { adapterFactory } from "./engine.ts";
import { providerOf, type Provider } from "./schema.ts";
import { postgresReader, type SqlReader, sqliteReader } from "./sqlReader.ts";
import type { PrismaClient } from "./generated/sqlite/client.ts";

export type Db = PrismaClient;

/** Where a client openDatabase opened keeps its SQL reader (a property, so that a proxy of the client has it too). */
export const SQL_READER = Symbol("sqlReader");

/** The SQL reader of a client openDatabase opened. */
export function sqlReaderOf(db: Db): SqlReader {
  const reader = (db as Db & { [SQL_READER]?: SqlReader })[SQL_READER];
  if (reader === undefined) throw new Error("sqlReaderOf: this client was not opened by openDatabase");
  return reader;
}

export async function openDatabase(url: string): Promise<{ db: Db; provider: Provider; close(): Promise<void> }> {
  const provider = providerOf(url);
  const generated =
    provider === "sqlite"
      ? await import("./generated/sqlite/client.ts")
      : await import("./generated/postgresql/client.ts");
  const Client = generated.PrismaClient as unknown as new (options: { adapter: unknown }) => Db;
  // PostgreSQL: one pool for Prisma and the reader, ended here once both are done (Prisma's adapter never ends a
  // pool it was given).
  const pool = provider === "postgresql" ? new pg.Pool({ connectionString: url }) : undefined;
  // An idle connection the server ended (a restart) is an 'error' on the pool, fatal unless listened to: the pool
  // drops it and opens another for the next query, which reports any lasting failure itself.
  pool?.on("error", () => {});
  const adapter = pool ? new PrismaPg(pool) : adapterFactory(url);
  const db = new Client({ adapter });
  const reader = pool ? postgresReader(pool) : sqliteReader(url);
  Object.defineProperty(db, SQL_READER, { value: reader, configurable: true });
  return {
    db,
    provider,
    close: async () => {
      await reader.close();
      await db.$disconnect();
      await pool?.end();
    },
  };
}
