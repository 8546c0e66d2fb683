-- AlterTable
ALTER TABLE "IndexerCheckpoint" ADD COLUMN "headBlock" INTEGER;
ALTER TABLE "IndexerCheckpoint" ADD COLUMN "headTimestamp" INTEGER;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Job" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "circuitId" INTEGER NOT NULL,
    "requester" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "minFee" TEXT NOT NULL,
    "maxFee" TEXT NOT NULL,
    "rampStart" INTEGER NOT NULL,
    "rampDuration" INTEGER NOT NULL,
    "lockedPrice" TEXT,
    "bond" TEXT NOT NULL,
    "provingWindow" INTEGER NOT NULL,
    "expiresAt" INTEGER NOT NULL,
    "inputsCommitment" TEXT NOT NULL,
    "inputsHash" TEXT NOT NULL,
    "inputsURI" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "assignee" TEXT,
    "deadline" INTEGER,
    "outputs" TEXT,
    "postedAtBlock" INTEGER NOT NULL,
    "postedAt" INTEGER NOT NULL,
    "provedAt" INTEGER,
    CONSTRAINT "Job_circuitId_fkey" FOREIGN KEY ("circuitId") REFERENCES "Circuit" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
-- (Written by npm run db:migration, then given the data: a job indexed before price ramps had one fee, its price
-- at any time, so it becomes a flat ramp from its posting (minFee = maxFee = fee, rampDuration 0), and a claimed or
-- proved job locked that fee.)
INSERT INTO "new_Job" ("assignee", "attempt", "bond", "circuitId", "deadline", "expiresAt", "id", "inputsCommitment", "inputsHash", "inputsURI", "outputs", "postedAt", "postedAtBlock", "provedAt", "provingWindow", "requester", "status", "minFee", "maxFee", "rampStart", "rampDuration", "lockedPrice") SELECT "assignee", "attempt", "bond", "circuitId", "deadline", "expiresAt", "id", "inputsCommitment", "inputsHash", "inputsURI", "outputs", "postedAt", "postedAtBlock", "provedAt", "provingWindow", "requester", "status", "fee", "fee", "postedAt", 0, CASE WHEN "status" IN ('Claimed', 'Proved') THEN "fee" END FROM "Job";
DROP TABLE "Job";
ALTER TABLE "new_Job" RENAME TO "Job";
CREATE INDEX "Job_postedAt_id_idx" ON "Job"("postedAt", "id");
CREATE INDEX "Job_status_postedAt_id_idx" ON "Job"("status", "postedAt", "id");
CREATE INDEX "Job_circuitId_status_postedAt_id_idx" ON "Job"("circuitId", "status", "postedAt", "id");
CREATE INDEX "Job_requester_postedAt_id_idx" ON "Job"("requester", "postedAt", "id");
CREATE INDEX "Job_assignee_postedAt_id_idx" ON "Job"("assignee", "postedAt", "id");
CREATE TABLE "new_JobEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "jobId" TEXT NOT NULL,
    "circuitId" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "blockNumber" INTEGER NOT NULL,
    "blockHash" TEXT NOT NULL,
    "logIndex" INTEGER NOT NULL,
    "txHash" TEXT NOT NULL,
    "timestamp" INTEGER NOT NULL,
    "prover" TEXT,
    "attempt" INTEGER,
    "data" TEXT NOT NULL,
    CONSTRAINT "JobEvent_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
-- (An event's circuit is its job's.)
INSERT INTO "new_JobEvent" ("attempt", "blockHash", "blockNumber", "data", "id", "jobId", "kind", "logIndex", "prover", "timestamp", "txHash", "circuitId") SELECT "attempt", "blockHash", "blockNumber", "data", "id", "jobId", "kind", "logIndex", "prover", "timestamp", "txHash", (SELECT "Job"."circuitId" FROM "Job" WHERE "Job"."id" = "JobEvent"."jobId") FROM "JobEvent";
DROP TABLE "JobEvent";
ALTER TABLE "new_JobEvent" RENAME TO "JobEvent";
CREATE INDEX "JobEvent_jobId_blockNumber_logIndex_idx" ON "JobEvent"("jobId", "blockNumber", "logIndex");
CREATE INDEX "JobEvent_blockNumber_idx" ON "JobEvent"("blockNumber");
CREATE INDEX "JobEvent_prover_blockNumber_idx" ON "JobEvent"("prover", "blockNumber");
CREATE INDEX "JobEvent_circuitId_kind_blockNumber_logIndex_idx" ON "JobEvent"("circuitId", "kind", "blockNumber", "logIndex");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
