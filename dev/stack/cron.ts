import postgres from "postgres";

/** One scheduled SQL job, as pg_cron runs it in production. */
export interface CronJob {
  name: string;
  everySeconds: number;
  /** One statement; its first column is logged as the job's report unless it is null or all zeros. */
  statement: string;
}

/**
 * The jobs the migrations schedule with pg_cron where it exists (schedule_ops_health,
 * schedule_ops_retention): health every minute, so alerts open while nobody looks, and
 * retention every hour. Each runs once at start too.
 */
export const LOCAL_CRON_JOBS: CronJob[] = [
  { name: "ops-health", everySeconds: 60, statement: "select null from public.ops_health(60)" },
  { name: "ops-retention", everySeconds: 3600, statement: "select public.ops_retention()" },
];

/** The local stand-in for pg_cron: runs each job on its interval; a failed run is logged and retried next time. */
export function startCron(databaseUrl: string, jobs: CronJob[], log: (line: string) => void): { stop(): Promise<void> } {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const run = async (job: CronJob) => {
    try {
      const [row] = await sql.unsafe(job.statement);
      const report = row ? Object.values(row)[0] : null;
      const quiet = report === null || report === undefined ||
        (typeof report === "object" && !Object.values(report as object).some(Boolean));
      if (!quiet) log(`[cron] ${job.name}: ${JSON.stringify(report)}`);
    } catch (error) {
      log(`[cron] ${job.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const timers = jobs.map((job) => {
    void run(job);
    return setInterval(() => void run(job), job.everySeconds * 1000);
  });
  return {
    async stop() {
      timers.forEach(clearInterval);
      await sql.end({ timeout: 1 }).catch(() => {});
    },
  };
}
