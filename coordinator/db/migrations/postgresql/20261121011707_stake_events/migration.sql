-- CreateTable
CREATE TABLE "StakeEvent" (
    "id" TEXT NOT NULL,
    "prover" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "blockNumber" INTEGER NOT NULL,
    "blockHash" TEXT NOT NULL,
    "logIndex" INTEGER NOT NULL,
    "txHash" TEXT NOT NULL,
    "timestamp" INTEGER NOT NULL,
    "data" TEXT NOT NULL,

    CONSTRAINT "StakeEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "StakeEvent_prover_blockNumber_logIndex_idx" ON "StakeEvent"("prover", "blockNumber", "logIndex");

-- CreateIndex
CREATE INDEX "StakeEvent_blockNumber_idx" ON "StakeEvent"("blockNumber");

-- CreateIndex
CREATE INDEX "JobEvent_prover_blockNumber_idx" ON "JobEvent"("prover", "blockNumber");
