/**
 * What one indexer commit changed: the jobs it wrote (as they stand after it) and whether any prover or circuit
 * row changed. The GraphQL response cache drops only the answers that read those (graphql/reads.ts).
 */

/** The fields of a job that a list's filter or order looks at (a job row has them all). */
export interface JobKey {
  id: string;
  status: string;
  circuitId: number;
  requester: string;
  assignee: string | null;
  postedAt: number;
}

export interface CommitChanges {
  jobs: JobKey[];
  provers: boolean;
  circuits: boolean;
}

/** Collects a commit's changes while its transaction runs; a job written twice is reported once, as last written. */
export function changeRecorder() {
  const jobs = new Map<string, JobKey>();
  const recorder = {
    provers: false,
    circuits: false,
    job(row: JobKey) {
      jobs.set(row.id, row);
    },
    jobIds: () => [...jobs.keys()],
    changes: (): CommitChanges => ({
      jobs: [...jobs.values()],
      provers: recorder.provers,
      circuits: recorder.circuits,
    }),
  };
  return recorder;
}
export type ChangeRecorder = ReturnType<typeof changeRecorder>;
