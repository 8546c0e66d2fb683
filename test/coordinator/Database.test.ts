/**
 * The coordinator's database on both providers, for real: a SQLite file and a fresh database on the local
 * PostgreSQL server. Migrations apply from the repository's SQL with the WASM schema engine (no download), are
 * idempotent, and match the data model.
 */
import { expect } from "chai";
import { migrate, migrationsList, pendingSchemaChange } from "../../coordinator/db/engine.ts";
import { openDatabase } from "../../coordinator/db/client.ts";
import { PROVIDERS } from "../../coordinator/db/schema.ts";
import { scratchDatabase } from "../../coordinator/db/scratch.ts";

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
              fee: "3000000000000000000",
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
          expect(job.fee).to.equal("3000000000000000000");
          // The same event id again is refused: events are written once.
          let duplicate: unknown;
          try {
            await db.jobEvent.create({
              data: {
                id: "0xtx:0",
                jobId: "1",
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
});
