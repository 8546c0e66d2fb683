/**
 * A small market to query (TheGraphShape.test.ts, CompiledQueries.test.ts): two circuits, twelve jobs by two
 * requesters in every status, their histories (job 4 reassigned once), two provers, and an indexer checkpoint whose
 * head prices the open jobs. Amounts are chosen so that text order and numeric order differ (900 < 1000).
 */
import type { openDatabase } from "../../coordinator/db/client.ts";
import { jobEventFields, jobEventId } from "../../coordinator/indexer/rows.ts";
import { testCircuit, testJob } from "../../dev/coordinatorRows.ts";

export const ALICE = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
export const BOB = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";

export async function seed(db: Awaited<ReturnType<typeof openDatabase>>["db"]) {
  await db.circuit.create({ data: testCircuit(1, "poseidon") });
  await db.circuit.create({ data: testCircuit(2, "multiplier") });
  const statuses = ["Open", "Claimed", "Proved"];
  const event = (jobId: string, circuitId: number, kind: string, block: number, args: Record<string, unknown>) => ({
    id: jobEventId(block, 0),
    jobId,
    circuitId,
    kind,
    blockNumber: block,
    blockHash: "0xb",
    logIndex: 0,
    txHash: `0x${block.toString(16).padStart(2, "0")}`,
    timestamp: 1000 + block,
    prover: (args.prover as string | undefined) ?? null,
    attempt: 0,
    data: JSON.stringify(args),
    ...jobEventFields(args),
  });
  for (let i = 1; i <= 12; i++) {
    const status = statuses[i % 3];
    const circuitId = i % 3 === 2 ? 2 : 1;
    const assignee = status === "Open" ? null : i % 2 ? ALICE : BOB;
    await db.job.create({
      data: {
        ...testJob({
          id: String(i),
          circuitId,
          requester: i % 2 ? ALICE : BOB,
          status,
          maxFee: String(100 * i),
          lockedPrice: status === "Open" ? null : String(50 * i),
          assignee,
          postedAtBlock: i === 12 ? 50 : i,
          postedAt: 1000 + i,
        }),
        inputsURI: `ipfs://Job${i}`,
        attempt: i === 4 ? 1 : 0,
        outputs: status === "Proved" ? JSON.stringify(["1", String(i)]) : null,
      },
    });
    const events = [
      event(String(i), circuitId, "Posted", i === 12 ? 50 : i, { minFee: String(100 * i), maxFee: String(100 * i) }),
    ];
    if (status !== "Open")
      events.push(event(String(i), circuitId, "Claimed", 20 + i, { price: String(50 * i), prover: assignee }));
    if (status === "Proved")
      events.push(event(String(i), circuitId, "Proved", 30 + i, { price: String(50 * i), prover: assignee }));
    if (i === 4) {
      events.splice(1, 1, event("4", 1, "Claimed", 44, { price: "150", prover: BOB }));
      events.push(event("4", 1, "Reassigned", 45, { prover: BOB, keeper: ALICE, split: { slashed: "5" } }));
      events.push(event("4", 1, "Claimed", 46, { price: String(50 * 4), prover: assignee }));
    }
    await db.jobEvent.createMany({ data: events });
  }
  await db.prover.create({ data: { address: ALICE, staked: "100" } });
  await db.prover.create({ data: { address: BOB, staked: "20" } });
  await db.indexerCheckpoint.create({
    data: {
      id: 1,
      chainId: 31337,
      market: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      lastBlock: 60,
      lastHash: "0x60",
    },
  });
  await db.indexedBlock.create({ data: { number: 60, hash: "0x60", parentHash: "0x59", timestamp: 1060 } });
}
