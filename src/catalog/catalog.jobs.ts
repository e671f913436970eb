import type { JobDefinition } from "../jobs/job.js";
import { CATALOG_IMPORT_JOB, runCatalogImportJob, type ImportHooks } from "./csv/csv-import.service.js";

/**
 * CSV imports too large to work through while the request waits. An upload
 * queues the import and calls requestJobRun, so a run starts at the
 * scheduler's next tick; the period only matters for picking up an import
 * whose process died (its lease runs out) and for cleaning up after imports.
 * A run works for about 10 s and returns `{ more: true }` while work is left.
 */
export function catalogJobs(options: { hooks?: ImportHooks; budgetMs?: number } = {}): JobDefinition[] {
  return [
    {
      name: CATALOG_IMPORT_JOB,
      everyMs: 30_000,
      run: (deps, ctx) => runCatalogImportJob(deps, ctx, options),
    },
  ];
}
