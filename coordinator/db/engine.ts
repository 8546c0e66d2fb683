/**
 * Prisma's schema engine compiled to WebAssembly, driven through a driver adapter: migrations without the native
 * engine that `prisma migrate` would download. It writes the same `_prisma_migrations` table and reads the same
 * migrations folder layout, so `prisma migrate deploy` stays usable where it works.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory } from "@prisma/driver-adapter-utils";
import { SchemaEngine } from "@prisma/schema-engine-wasm";
import { MIGRATIONS_DIR, type Provider, providerOf, schemaText } from "./schema.ts";
import { PG_ADMIN_URL } from "./scratch.ts";

const NO_FILTER = { externalTables: [], externalEnums: [] };

export function adapterFactory(url: string) {
  return providerOf(url) === "sqlite" ? new PrismaBetterSqlite3({ url }) : new PrismaPg({ connectionString: url });
}

interface Disposable {
  dispose(): Promise<void>;
}

/**
 * Starts the engine on a driver adapter, recording the connections it opens: `engine.free()` releases the WASM
 * memory but not them, and an open SQLite connection would lock the file for the next engine.
 */
async function startEngine(provider: Provider, url: string): Promise<{ engine: SchemaEngine; close(): Promise<void> }> {
  const factory = adapterFactory(url);
  const opened: Disposable[] = [];
  const tracked = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const adapter = await factory.connect();
      opened.push(adapter);
      return adapter;
    },
    connectToShadowDb: async () => {
      const adapter = await factory.connectToShadowDb();
      opened.push(adapter);
      return adapter;
    },
  };
  const engine = await SchemaEngine.new(
    { datamodels: [["schema.prisma", schemaText(provider)]] } as never,
    () => {},
    bindMigrationAwareSqlAdapterFactory(tracked as never),
  );
  return {
    engine,
    async close() {
      engine.free();
      await Promise.all(opened.map((a) => a.dispose()));
    },
  };
}

/**
 * The provider's migrations folder as the engine takes it; with `through`, only the migrations up to that one (a
 * database as an older coordinator left it, for tests of a migration's data).
 */
export function migrationsList(provider: Provider, through?: string) {
  const baseDir = MIGRATIONS_DIR(provider);
  const all = readdirSync(baseDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (through !== undefined && !all.includes(through))
    throw new Error(`no migration ${through} in ${baseDir} (there are: ${all.join(", ")})`);
  const names = through === undefined ? all : all.slice(0, all.indexOf(through) + 1);
  return {
    baseDir,
    lockfile: { path: "migration_lock.toml", content: readFileSync(path.join(baseDir, "migration_lock.toml"), "utf8") },
    shadowDbInitScript: "",
    migrationDirectories: names.map((name) => ({
      path: name,
      migrationFile: {
        path: "migration.sql",
        content: { tag: "ok", value: readFileSync(path.join(baseDir, name, "migration.sql"), "utf8") },
      },
    })),
  };
}

/**
 * Applies the migrations not yet applied to the database at `url` (up to `through` when given); returns their
 * names. Idempotent.
 */
export async function migrate(url: string, through?: string): Promise<string[]> {
  const provider = providerOf(url);
  const { engine, close } = await startEngine(provider, url);
  try {
    const out = await engine.applyMigrations({
      migrationsList: migrationsList(provider, through),
      filters: NO_FILTER,
    } as never);
    return out.appliedMigrationNames;
  } finally {
    await close();
  }
}

/** The data model as of the newest migration (each migration folder keeps the models.prisma it reached). */
export function lastMigratedModels(provider: Provider): string | null {
  const list = migrationsList(provider);
  const last = list.migrationDirectories.at(-1);
  if (last === undefined) return null;
  return readFileSync(path.join(list.baseDir, last.path, "models.prisma"), "utf8");
}

/**
 * SQL that takes the database from the newest migration's data model to the current one (empty when they
 * match). A diff between two data models needs no database: the WASM engine cannot read a live PostgreSQL
 * schema through the driver adapter (it fails on a catalog column of type "char"), so none is read.
 */
export async function pendingSchemaChange(provider: Provider): Promise<string> {
  // The engine connects when it starts, though a diff of two data models reads nothing from the server.
  const { engine, close } = await startEngine(provider, provider === "sqlite" ? "file::memory:" : PG_ADMIN_URL);
  try {
    const previous = lastMigratedModels(provider);
    const result = await engine.diff({
      from:
        previous === null
          ? { tag: "empty" }
          : { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: schemaText(provider, previous) }] },
      to: { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: schemaText(provider) }] },
      script: true,
      exitCode: null,
      filters: NO_FILTER,
    } as never);
    return (result.stdout ?? "").trim();
  } finally {
    await close();
  }
}
