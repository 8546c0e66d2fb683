/**
 * Opens the coordinator's database: SQLite for `file:` URLs (the default), PostgreSQL for postgresql:// URLs,
 * each through its generated Prisma client and driver adapter. Both clients come from one data model, so the
 * SQLite client's type stands for both.
 */
import { adapterFactory } from "./engine.ts";
import { providerOf, type Provider } from "./schema.ts";
import type { PrismaClient } from "./generated/sqlite/client.ts";

export type Db = PrismaClient;

export async function openDatabase(url: string): Promise<{ db: Db; provider: Provider; close(): Promise<void> }> {
  const provider = providerOf(url);
  const generated =
    provider === "sqlite"
      ? await import("./generated/sqlite/client.ts")
      : await import("./generated/postgresql/client.ts");
  const Client = generated.PrismaClient as unknown as new (options: { adapter: unknown }) => Db;
  const db = new Client({ adapter: adapterFactory(url) });
  return { db, provider, close: () => db.$disconnect() };
}
