-- DropIndex
DROP INDEX "Job_status_postedAt_idx";

-- DropIndex
DROP INDEX "Job_circuitId_status_idx";

-- DropIndex
DROP INDEX "Job_requester_postedAt_idx";

-- DropIndex
DROP INDEX "Job_assignee_postedAt_idx";

-- CreateIndex
CREATE INDEX "Job_postedAt_id_idx" ON "Job"("postedAt", "id");

-- CreateIndex
CREATE INDEX "Job_status_postedAt_id_idx" ON "Job"("status", "postedAt", "id");

-- CreateIndex
CREATE INDEX "Job_circuitId_status_postedAt_id_idx" ON "Job"("circuitId", "status", "postedAt", "id");

-- CreateIndex
CREATE INDEX "Job_requester_postedAt_id_idx" ON "Job"("requester", "postedAt", "id");

-- CreateIndex
CREATE INDEX "Job_assignee_postedAt_id_idx" ON "Job"("assignee", "postedAt", "id");
