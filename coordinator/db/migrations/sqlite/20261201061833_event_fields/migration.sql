-- AlterTable
ALTER TABLE "JobEvent" ADD COLUMN "bond" TEXT;
ALTER TABLE "JobEvent" ADD COLUMN "deadline" INTEGER;
ALTER TABLE "JobEvent" ADD COLUMN "keeper" TEXT;
ALTER TABLE "JobEvent" ADD COLUMN "maxFee" TEXT;
ALTER TABLE "JobEvent" ADD COLUMN "minFee" TEXT;
ALTER TABLE "JobEvent" ADD COLUMN "outputs" TEXT;
ALTER TABLE "JobEvent" ADD COLUMN "price" TEXT;
ALTER TABLE "JobEvent" ADD COLUMN "rampStart" INTEGER;
ALTER TABLE "JobEvent" ADD COLUMN "refund" TEXT;
ALTER TABLE "JobEvent" ADD COLUMN "slashed" TEXT;

-- (Written by npm run db:migration, then given the data: each event's fields from its stored arguments, as the
-- indexer now writes them (coordinator/indexer/rows.ts jobEventFields), a Proved event's outputs are its job's, and
-- each id becomes the event's place in the chain, block and log index.)
UPDATE "JobEvent" SET
  "minFee" = COALESCE(json_extract("data", '$.newMinFee'), json_extract("data", '$.minFee')),
  "maxFee" = COALESCE(json_extract("data", '$.newMaxFee'), json_extract("data", '$.maxFee')),
  "rampStart" = CAST(COALESCE(json_extract("data", '$.newRampStart'), json_extract("data", '$.rampStart')) AS INTEGER),
  "price" = json_extract("data", '$.price'),
  "bond" = json_extract("data", '$.bond'),
  "deadline" = CAST(json_extract("data", '$.deadline') AS INTEGER),
  "refund" = json_extract("data", '$.refund'),
  "keeper" = json_extract("data", '$.keeper'),
  "slashed" = json_extract("data", '$.split.slashed'),
  "outputs" = CASE WHEN "kind" = 'Proved' THEN (SELECT "Job"."outputs" FROM "Job" WHERE "Job"."id" = "JobEvent"."jobId") END,
  "id" = printf('%010d-%06d', "blockNumber", "logIndex");
