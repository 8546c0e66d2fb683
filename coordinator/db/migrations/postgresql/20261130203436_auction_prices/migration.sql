-- Written by npm run db:migration, then given the data: a job indexed before price ramps had one fee, its price at
-- any time, so it becomes a flat ramp from its posting (minFee = maxFee = fee, rampDuration 0), and a claimed or
-- proved job locked that fee. An event's circuit is its job's. (The new required columns are added nullable, filled,
-- then made required, which is the schema the data model asks for.)

-- AlterTable
ALTER TABLE "Job" ADD COLUMN     "lockedPrice" TEXT,
ADD COLUMN     "maxFee" TEXT,
ADD COLUMN     "minFee" TEXT,
ADD COLUMN     "rampDuration" INTEGER,
ADD COLUMN     "rampStart" INTEGER;

UPDATE "Job" SET "minFee" = "fee", "maxFee" = "fee", "rampStart" = "postedAt", "rampDuration" = 0,
  "lockedPrice" = CASE WHEN "status" IN ('Claimed', 'Proved') THEN "fee" END;

ALTER TABLE "Job" DROP COLUMN "fee",
ALTER COLUMN     "maxFee" SET NOT NULL,
ALTER COLUMN     "minFee" SET NOT NULL,
ALTER COLUMN     "rampDuration" SET NOT NULL,
ALTER COLUMN     "rampStart" SET NOT NULL;

-- AlterTable
ALTER TABLE "JobEvent" ADD COLUMN     "circuitId" INTEGER;

UPDATE "JobEvent" SET "circuitId" = "Job"."circuitId" FROM "Job" WHERE "Job"."id" = "JobEvent"."jobId";

ALTER TABLE "JobEvent" ALTER COLUMN "circuitId" SET NOT NULL;

-- AlterTable
ALTER TABLE "IndexerCheckpoint" ADD COLUMN     "headBlock" INTEGER,
ADD COLUMN     "headTimestamp" INTEGER;

-- CreateIndex
CREATE INDEX "JobEvent_circuitId_kind_blockNumber_logIndex_idx" ON "JobEvent"("circuitId", "kind", "blockNumber", "logIndex");
