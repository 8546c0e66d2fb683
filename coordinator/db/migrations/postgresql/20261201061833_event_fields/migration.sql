-- AlterTable
ALTER TABLE "JobEvent" ADD COLUMN     "bond" TEXT,
ADD COLUMN     "deadline" INTEGER,
ADD COLUMN     "keeper" TEXT,
ADD COLUMN     "maxFee" TEXT,
ADD COLUMN     "minFee" TEXT,
ADD COLUMN     "outputs" TEXT,
ADD COLUMN     "price" TEXT,
ADD COLUMN     "rampStart" INTEGER,
ADD COLUMN     "refund" TEXT,
ADD COLUMN     "slashed" TEXT;

-- (Written by npm run db:migration, then given the data: each event's fields from its stored arguments, as the
-- indexer now writes them (coordinator/indexer/rows.ts jobEventFields), a Proved event's outputs are its job's, and
-- each id becomes the event's place in the chain, block and log index.)
UPDATE "JobEvent" SET
  "minFee" = COALESCE("data"::jsonb->>'newMinFee', "data"::jsonb->>'minFee'),
  "maxFee" = COALESCE("data"::jsonb->>'newMaxFee', "data"::jsonb->>'maxFee'),
  "rampStart" = CAST(COALESCE("data"::jsonb->>'newRampStart', "data"::jsonb->>'rampStart') AS INTEGER),
  "price" = "data"::jsonb->>'price',
  "bond" = "data"::jsonb->>'bond',
  "deadline" = CAST("data"::jsonb->>'deadline' AS INTEGER),
  "refund" = "data"::jsonb->>'refund',
  "keeper" = "data"::jsonb->>'keeper',
  "slashed" = "data"::jsonb->'split'->>'slashed',
  "outputs" = CASE WHEN "kind" = 'Proved' THEN (SELECT "Job"."outputs" FROM "Job" WHERE "Job"."id" = "JobEvent"."jobId") END,
  "id" = lpad("blockNumber"::text, 10, '0') || '-' || lpad("logIndex"::text, 6, '0');
