-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Circuit" (
    "id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "verifier" TEXT NOT NULL,
    "system" TEXT NOT NULL,
    "nPublicOutputs" INTEGER NOT NULL,
    "nPublicInputs" INTEGER NOT NULL,
    "batchVerifier" TEXT,
    "registrant" TEXT NOT NULL,
    "manifestHash" TEXT NOT NULL,
    "artifactsURI" TEXT NOT NULL,
    "registeredAtBlock" INTEGER NOT NULL,

    CONSTRAINT "Circuit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Job" (
    "id" TEXT NOT NULL,
    "circuitId" INTEGER NOT NULL,
    "requester" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "fee" TEXT NOT NULL,
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

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "JobEvent" (
    "id" TEXT NOT NULL,
    "jobId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "blockNumber" INTEGER NOT NULL,
    "blockHash" TEXT NOT NULL,
    "logIndex" INTEGER NOT NULL,
    "txHash" TEXT NOT NULL,
    "timestamp" INTEGER NOT NULL,
    "prover" TEXT,
    "attempt" INTEGER,
    "data" TEXT NOT NULL,

    CONSTRAINT "JobEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Prover" (
    "address" TEXT NOT NULL,
    "staked" TEXT NOT NULL DEFAULT '0',
    "locked" TEXT NOT NULL DEFAULT '0',
    "unbonding" TEXT NOT NULL DEFAULT '0',
    "jobsProved" INTEGER NOT NULL DEFAULT 0,
    "jobsMissed" INTEGER NOT NULL DEFAULT 0,
    "jobsAbandoned" INTEGER NOT NULL DEFAULT 0,
    "slashed" TEXT NOT NULL DEFAULT '0',
    "earned" TEXT NOT NULL DEFAULT '0',

    CONSTRAINT "Prover_pkey" PRIMARY KEY ("address")
);

-- CreateTable
CREATE TABLE "IndexedBlock" (
    "number" INTEGER NOT NULL,
    "hash" TEXT NOT NULL,
    "parentHash" TEXT NOT NULL,
    "timestamp" INTEGER NOT NULL,

    CONSTRAINT "IndexedBlock_pkey" PRIMARY KEY ("number")
);

-- CreateTable
CREATE TABLE "IndexerCheckpoint" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "chainId" INTEGER NOT NULL,
    "market" TEXT NOT NULL,
    "lastBlock" INTEGER NOT NULL,
    "lastHash" TEXT NOT NULL,

    CONSTRAINT "IndexerCheckpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "InputsDocument" (
    "hash" TEXT NOT NULL,
    "circuitId" INTEGER NOT NULL,
    "content" TEXT NOT NULL,
    "bytes" INTEGER NOT NULL,
    "createdAt" INTEGER NOT NULL,

    CONSTRAINT "InputsDocument_pkey" PRIMARY KEY ("hash")
);

-- CreateIndex
CREATE INDEX "Job_status_postedAt_idx" ON "Job"("status", "postedAt");

-- CreateIndex
CREATE INDEX "Job_circuitId_status_idx" ON "Job"("circuitId", "status");

-- CreateIndex
CREATE INDEX "Job_requester_postedAt_idx" ON "Job"("requester", "postedAt");

-- CreateIndex
CREATE INDEX "Job_assignee_postedAt_idx" ON "Job"("assignee", "postedAt");

-- CreateIndex
CREATE INDEX "JobEvent_jobId_blockNumber_logIndex_idx" ON "JobEvent"("jobId", "blockNumber", "logIndex");

-- CreateIndex
CREATE INDEX "JobEvent_blockNumber_idx" ON "JobEvent"("blockNumber");

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_circuitId_fkey" FOREIGN KEY ("circuitId") REFERENCES "Circuit"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "JobEvent" ADD CONSTRAINT "JobEvent_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
