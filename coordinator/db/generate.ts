/**
 * `npm run db:generate`: generates the Prisma client of each provider (db/generated/<provider>/) from the data
 * model, offline. `prisma generate` needs no engine download when PRISMA_SCHEMA_ENGINE_BINARY names any path (it
 * only skips a download check); the clients run on driver adapters.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { PROVIDERS, schemaText } from "./schema.ts";

const prismaCli = path.join(
  path.dirname(createRequire(import.meta.url).resolve("prisma/package.json")),
  "build",
  "index.js",
);
const dir = mkdtempSync(path.join(os.tmpdir(), "pm-prisma-"));
try {
  for (const provider of PROVIDERS) {
    const schema = path.join(dir, `${provider}.prisma`);
    writeFileSync(schema, schemaText(provider));
    execFileSync(process.execPath, [prismaCli, "generate", "--schema", schema], {
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
      },
    });
    console.log(`generated the ${provider} client`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
