import postgres from "postgres";

/** Options of {@link startEmailWakeups}. */
export interface WakeupOptions {
  databaseUrl: string;
  /** email-service's URL (through the gateway). */
  drainUrl: string;
  wakeupSecret: string;
  /** How often to drain anyway, as pg_cron's sweep does for retries that fall due. */
  sweepSeconds: number;
  log: (line: string) => void;
}

/**
 * The local stand-in for pg_net and pg_cron: LISTENs to the `email_queue` notification the
 * queue's statement trigger sends, and calls email-service's drain with the wake-up secret,
 * exactly the request pg_net makes in production; a timer sweeps for due retries. Wake-ups
 * that arrive while a drain runs fold into one follow-up drain.
 */
export async function startEmailWakeups(options: WakeupOptions): Promise<{ stop(): Promise<void> }> {
  const sql = postgres(options.databaseUrl, { max: 1, onnotice: () => {} });
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  const drainOnce = async () => {
    try {
      const response = await fetch(options.drainUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "x-wakeup-secret": options.wakeupSecret },
        body: JSON.stringify({ action: "drain" }),
      });
      const report = await response.json();
      if (!response.ok) options.log(`[wakeup] drain answered ${response.status}: ${JSON.stringify(report)}`);
      else if (report.claimed > 0) options.log(`[wakeup] drain: ${JSON.stringify(report)}`);
    } catch (error) {
      options.log(`[wakeup] drain failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const kick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await drainOnce();
      } while (again && !stopped);
      running = null;
    })();
  };

  const listener = await sql.listen("email_queue", kick);
  const timer = setInterval(kick, options.sweepSeconds * 1000);
  kick();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await listener.unlisten();
      await running;
      await sql.end();
    },
  };
}
