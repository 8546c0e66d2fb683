/**
 * The coordinator's database on both providers, for real: a SQLite file and a fresh database on the local
 * PostgreSQL server. Migrations apply from the repository's SQL with the WASM schema engine (no download), are
 * idempotent, and match the data model; a database an older coordinator wrote keeps its data through them (jobs
 * indexed before price ramps get the ramp their one fee was).
 */
import assert from "node:assert/strict";
import { expect } from "chai";
import { migrate, migrationsList, pendingSchemaChange } from "../../coordinator/db/engine.ts";
import { sqltag as sql } from "@prisma/client/runtime/client";
import { openDatabase, sqlReaderOf } from "../../coordinator/db/client.ts";
import { PROVIDERS } from "../../coordinator/db/schema.ts";
import { scratchDatabase } from "../../coordinator/db/scratch.ts";
import { jobEventFields } from "../../coordinator/indexer/rows.ts";
import { testCircuit, testJob } from "../../dev/coordinatorRows.ts";

describe("coordinator database", function () {
  it("both providers have the same migration history, and it reaches the current data model", async function () {
    const names = PROVIDERS.map((p) => migrationsList(p).migrationDirectories.map((d) => d.path));
    expect(names[0]).to.deep.equal(names[1]);
    expect(names[0].length).to.be.greaterThan(0);
    for (const provider of PROVIDERS) {
      expect(
        await pendingSchemaChange(provider),
        `${provider}: models.prisma changed without a migration (npm run db:migration -- <name>)`,
      ).to.match(/^$|^-- This is an empty migration/);
    }
  });

  for (const provider of PROVIDERS) {
    it(`${provider}: migrates a fresh database once, idempotently, and stores and reads jobs with their history`, async function () {
      const scratch = await scratchDatabase(provider);
      try {
        const applied = await migrate(scratch.url);
        expect(applied).to.deep.equal(migrationsList(provider).migrationDirectories.map((d) => d.path));
        expect(await migrate(scratch.url)).to.deep.equal([]);

        const { db, close } = await openDatabase(scratch.url);
        try {
          await db.circuit.create({
            data: {
              id: 1,
              name: "poseidon_preimage/groth16",
              verifier: "0x01",
              system: "groth16",
              nPublicOutputs: 0,
              nPublicInputs: 2,
              registrant: "0x02",
              manifestHash: "0x03",
              artifactsURI: "ipfs://x",
              registeredAtBlock: 1,
            },
          });
          await db.job.create({
            data: {
              id: "1",
              circuitId: 1,
              requester: "0xaa",
              status: "Open",
              minFee: "1000000000000000000",
              maxFee: "3000000000000000000",
              rampStart: 1_900_000_060,
              rampDuration: 600,
              bond: "2000000000000000000",
              provingWindow: 300,
              expiresAt: 2_000_000_000,
              inputsCommitment: "0xc0",
              inputsHash: "0xd0",
              inputsURI: "data:,{}",
              postedAtBlock: 5,
              postedAt: 1_900_000_000,
              events: {
                create: {
                  id: "0xtx:0",
                  circuitId: 1,
                  kind: "Posted",
                  blockNumber: 5,
                  blockHash: "0xb5",
                  logIndex: 0,
                  txHash: "0xtx",
                  timestamp: 1_900_000_000,
                  data: "{}",
                },
              },
            },
          });
          const job = await db.job.findUniqueOrThrow({ where: { id: "1" }, include: { events: true, circuit: true } });
          expect(job.circuit.name).to.equal("poseidon_preimage/groth16");
          expect(job.events.map((e) => e.kind)).to.deep.equal(["Posted"]);
          expect(job).to.include({
            minFee: "1000000000000000000",
            maxFee: "3000000000000000000",
            rampStart: 1_900_000_060,
            rampDuration: 600,
            lockedPrice: null,
          });
          // The same event id again is refused: events are written once.
          let duplicate: unknown;
          try {
            await db.jobEvent.create({
              data: {
                id: "0xtx:0",
                jobId: "1",
                circuitId: 1,
                kind: "Posted",
                blockNumber: 5,
                blockHash: "0xb5",
                logIndex: 0,
                txHash: "0xtx",
                timestamp: 1,
                data: "{}",
              },
            });
          } catch (e) {
            duplicate = e;
          }
          expect(duplicate, "duplicate event id accepted").to.be.instanceOf(Error);
        } finally {
          await close();
        }
      } finally {
        await scratch.drop();
      }
    });
  }

  for (const provider of PROVIDERS) {
    it(`${provider}: the lists' SQL reader sees what is committed, and a large transaction still open holds up no other work`, async function () {
      const scratch = await scratchDatabase(provider);
      try {
        await migrate(scratch.url);
        const { db, close } = await openDatabase(scratch.url);
        try {
          await db.circuit.create({ data: testCircuit(1, "c") });
          const documents = async () =>
            Number(
              (await sqlReaderOf(db).rows<{ n: number | string }>(sql`SELECT COUNT(*) AS n FROM "InputsDocument"`))[0]
                .n,
            );
          expect(await documents()).to.equal(0);
          const content = "x".repeat(200_000);
          let read: Promise<number> | undefined;
          await db.$transaction(
            async (tx) => {
              // 40 MB written, more than the page cache (16 MB as better-sqlite3 builds SQLite): the transaction
              // spills into the file before it commits, and SQLite locks readers out of the file until it does.
              for (let i = 0; i < 200; i++)
                await tx.inputsDocument.create({
                  data: { hash: `0x${i}`, circuitId: 1, content, bytes: content.length, createdAt: 1 },
                });
              read = documents();
              // SQLite: the read waits for the commit on the reader's thread, not on the event loop: a timer fires
              // on time while it is still waiting (a read on this thread had waited 5 s, then failed "database is
              // locked"). PostgreSQL: a reader never waits for a writer; the read answers from before the commit.
              const started = performance.now();
              const first = await Promise.race([read, new Promise((r) => setTimeout(() => r("timer"), 20))]);
              expect(performance.now() - started).to.be.below(1000);
              expect(first).to.equal(provider === "sqlite" ? "timer" : 0);
            },
            { timeout: 60_000 },
          );
          // The read sees the transaction whole or not at all.
          expect(await read).to.be.oneOf([0, 200]);
          expect(await documents()).to.equal(200);
        } finally {
          await close();
        }
      } finally {
        await scratch.drop();
      }
    });

    it(`${provider}: a read the database refuses fails with the database's message, and the reader reads on`, async function () {
      const scratch = await scratchDatabase(provider);
      try {
        await migrate(scratch.url);
        const { db, close } = await openDatabase(scratch.url);
        const reader = sqlReaderOf(db);
        try {
          await assert.rejects(reader.rows(sql`SELECT t."nope" FROM "Job" t`), /nope/);
          const [wrong, right] = await Promise.allSettled([
            reader.rows(sql`SELECT * FROM "NoSuchTable"`),
            reader.rows<{ n: number | string }>(sql`SELECT COUNT(*) AS n FROM "Job"`),
          ]);
          expect(wrong.status).to.equal("rejected");
          expect(right.status === "fulfilled" && Number(right.value[0].n)).to.equal(0);
        } finally {
          await close();
        }
        if (provider === "sqlite") await assert.rejects(reader.rows(sql`SELECT 1`), /the database is closed/);
      } finally {
        await scratch.drop();
      }
    });

    it(`${provider}: jobs indexed before price ramps get the ramp their fee was, and their events their circuit`, async function () {
      const names = migrationsList(provider).migrationDirectories.map((d) => d.path);
      const ramps = names.findIndex((name) => name.endsWith("_auction_prices"));
      expect(ramps, "the migration that added price ramps").to.be.greaterThan(0);
      const scratch = await scratchDatabase(provider);
      try {
        await migrate(scratch.url, names[ramps - 1]);
        // Rows as the coordinator wrote them before: one fee per job, events without their circuit.
        const older = await openDatabase(scratch.url);
        try {
          const rows = [
            `INSERT INTO "Circuit" ("id", "name", "verifier", "system", "nPublicOutputs", "nPublicInputs", "registrant", "manifestHash", "artifactsURI", "registeredAtBlock") VALUES (4, 'c', '0x01', 'groth16', 0, 2, '0x02', '0x03', 'x', 1)`,
            ...[
              ["1", "Open", null],
              ["2", "Claimed", "'0xp'"],
              ["3", "Proved", "'0xp'"],
              ["4", "Expired", null],
            ].map(
              ([id, status, assignee]) =>
                `INSERT INTO "Job" ("id", "circuitId", "requester", "status", "fee", "bond", "provingWindow", "expiresAt", "inputsCommitment", "inputsHash", "inputsURI", "attempt", "assignee", "postedAtBlock", "postedAt") VALUES ('${id}', 4, '0xaa', '${status}', '${id}000000000000000000', '2', 300, 2000000000, '0xc', '0xd', 'u', 0, ${assignee}, ${id}, 170000000${id})`,
            ),
            `INSERT INTO "JobEvent" ("id", "jobId", "kind", "blockNumber", "blockHash", "logIndex", "txHash", "timestamp", "prover", "attempt", "data") VALUES ('0xt:0', '2', 'Claimed', 9, '0xb', 0, '0xt', 1700000009, '0xp', 0, '{}')`,
            `INSERT INTO "IndexerCheckpoint" ("id", "chainId", "market", "lastBlock", "lastHash") VALUES (1, 31337, '0xm', 9, '0xb')`,
          ];
          for (const sql of rows) await older.db.$executeRawUnsafe(sql);
        } finally {
          await older.close();
        }

        expect(await migrate(scratch.url)).to.deep.equal(names.slice(ramps));
        const { db, close } = await openDatabase(scratch.url);
        try {
          const jobs = await db.job.findMany({
            orderBy: { id: "asc" },
            select: { id: true, minFee: true, maxFee: true, rampStart: true, rampDuration: true, lockedPrice: true },
          });
          const fee = (id: string) => `${id}000000000000000000`;
          expect(jobs).to.deep.equal(
            ["1", "2", "3", "4"].map((id) => ({
              id,
              minFee: fee(id),
              maxFee: fee(id),
              rampStart: Number(`170000000${id}`),
              rampDuration: 0,
              // A claimed or proved job locked its fee; an open or expired one has no price.
              lockedPrice: id === "2" || id === "3" ? fee(id) : null,
            })),
          );
          // (and, from a later migration, its id is its place in the chain: block 9, log 0)
          expect(await db.jobEvent.findMany({ select: { id: true, circuitId: true } })).to.deep.equal([
            { id: "0000000009-000000", circuitId: 4 },
          ]);
          expect(await db.indexerCheckpoint.findUnique({ where: { id: 1 } })).to.include({
            lastBlock: 9,
            headBlock: null,
            headTimestamp: null,
          });
        } finally {
          await close();
        }
      } finally {
        await scratch.drop();
      }
    });
  }
  for (const provider of PROVIDERS) {
    it(`${provider}: events indexed before their fields had columns get them from their arguments, and ids in chain order`, async function () {
      const names = migrationsList(provider).migrationDirectories.map((d) => d.path);
      const fields = names.findIndex((name) => name.endsWith("_event_fields"));
      expect(fields, "the migration that gave events their fields").to.be.greaterThan(0);
      const scratch = await scratchDatabase(provider);
      try {
        await migrate(scratch.url, names[fields - 1]);
        const older = await openDatabase(scratch.url);
        // Events as the indexer stored them before: the fields only in `data`, ids by transaction and log.
        const stored: [string, string, number, number, object][] = [
          ["Posted", "0xa:0", 5, 0, { jobId: "1", minFee: "10", maxFee: "30", rampStart: "100", bond: "7" }],
          ["Claimed", "0xb:3", 6, 3, { jobId: "1", price: "12", bond: "7", deadline: "400", prover: "0xp" }],
          [
            "Reassigned",
            "0xc:1",
            8,
            1,
            { newMinFee: "11", newMaxFee: "31", newRampStart: "150", keeper: "0xk", split: { slashed: "7" } },
          ],
          ["Proved", "0xd:0", 9, 0, { price: "20", refund: "11", outputs: ["5", "6"] }],
        ];
        try {
          await older.db.circuit.create({ data: testCircuit(1, "c") });
          await older.db.job.create({
            data: {
              ...testJob({
                id: "1",
                circuitId: 1,
                requester: "0xaa",
                status: "Proved",
                maxFee: "31",
                assignee: "0xp",
                postedAtBlock: 5,
                postedAt: 1,
              }),
              outputs: '["5","6"]',
            },
          });
          for (const [kind, id, blockNumber, logIndex, args] of stored)
            await older.db.$executeRawUnsafe(
              `INSERT INTO "JobEvent" ("id", "jobId", "circuitId", "kind", "blockNumber", "blockHash", "logIndex", "txHash", "timestamp", "data") VALUES ('${id}', '1', 1, '${kind}', ${blockNumber}, '0xb', ${logIndex}, '${id.split(":")[0]}', 1, '${JSON.stringify(args)}')`,
            );
        } finally {
          await older.close();
        }
        expect(await migrate(scratch.url)).to.deep.equal(names.slice(fields));
        const { db, close } = await openDatabase(scratch.url);
        try {
          const rows = await db.jobEvent.findMany({ orderBy: { id: "asc" } });
          expect(rows.map((r) => r.id)).to.deep.equal([
            "0000000005-000000",
            "0000000006-000003",
            "0000000008-000001",
            "0000000009-000000",
          ]);
          // The same fields the indexer now writes for the same arguments.
          for (const [i, [, , , , args]] of stored.entries()) {
            const row = rows[i] as Record<string, unknown>;
            const expected = jobEventFields(args as Record<string, unknown>);
            expect(Object.fromEntries(Object.keys(expected).map((k) => [k, row[k]])), rows[i].kind).to.deep.equal(
              expected,
            );
          }
        } finally {
          await close();
        }
      } finally {
        await scratch.drop();
      }
    });
  }
});
