import { WorkflowError } from "./workflow-errors";

export interface GraphJob {
  id: string;
  needs: string[];
}

/** Jobs in an order that runs every job after all it needs (stable: file order where free). */
export function jobOrder<T extends GraphJob>(jobs: readonly T[]): T[] {
  const byId = new Map(jobs.map((job) => [job.id, job]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const order: T[] = [];
  const visit = (job: T, path: string[]) => {
    if (done.has(job.id)) return;
    if (visiting.has(job.id)) {
      throw new WorkflowError(`job ${job.id}`, `needs form a cycle: ${[...path, job.id].join(" → ")}`);
    }
    visiting.add(job.id);
    for (const need of job.needs) {
      const needed = byId.get(need);
      if (!needed)
        throw new WorkflowError(`job ${job.id}`, `needs '${need}', which is not a job of this workflow`);
      visit(needed, [...path, job.id]);
    }
    visiting.delete(job.id);
    done.add(job.id);
    order.push(job);
  };
  for (const job of jobs) visit(job, []);
  return order;
}

/** Every job `id` depends on, directly or not: what job-level success()/failure() look at. */
export function ancestors(id: string, jobs: readonly GraphJob[]): string[] {
  const byId = new Map(jobs.map((job) => [job.id, job]));
  const seen = new Set<string>();
  const walk = (current: string) => {
    for (const need of byId.get(current)?.needs ?? []) {
      if (seen.has(need)) continue;
      seen.add(need);
      walk(need);
    }
  };
  walk(id);
  return [...seen];
}
