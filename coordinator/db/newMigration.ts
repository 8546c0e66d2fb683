/**
 * `npm run db:migration -- <name>`: writes the migration that takes each provider's existing migrations to the
 * current data model, as SQL per provider (coordinator/db/migrations/<provider>/<timestamp>_<name>/migration.sql).
 * Each migration folder also keeps the data model it reaches (models.prisma), and the new migration is the schema
 * engine's diff from the newest of those to the current data model.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pendingSchemaChange } from "./engine.ts";
import { MIGRATIONS_DIR, MODELS_FILE, PROVIDERS } from "./schema.ts";

const name = process.argv[2];
if (name === undefined || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:migration -- <name>   (lowercase letters, digits and _)");
  process.exit(2);
}
const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
for (const provider of PROVIDERS) {
  const dir = MIGRATIONS_DIR(provider);
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, "migration_lock.toml");
  if (!existsSync(lock)) writeFileSync(lock, `# Managed by coordinator/db; do not edit.\nprovider = "${provider}"\n`);
  const sql = await pendingSchemaChange(provider);
  if (sql === "" || /^-- This is an empty migration/.test(sql)) {
    console.log(`${provider}: the migrations already match the data model; nothing written`);
    continue;
  }
  const target = path.join(dir, `${stamp}_${name}`);
  mkdirSync(target);
  writeFileSync(path.join(target, "migration.sql"), `${sql}\n`);
  copyFileSync(MODELS_FILE, path.join(target, "models.prisma"));
  console.log(`${provider}: wrote ${path.relative(process.cwd(), target)}/migration.sql`);
}
process.exit(0);
