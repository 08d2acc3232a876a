import { type FunctionSpec, FunctionStartError, type ServedFunction } from "./functions.ts";
import type { GatewayRoute } from "./gateway.ts";

/** One function of the stack: the Deno process serving it, its gateway route, its reloads. */
export interface SupervisedFunction {
  name: string;
  /** The process serving it now; none after a failed start or a crash. */
  current(): ServedFunction | undefined;
  /**
   * Starts the current code in a new process, then points the route at it, then stops the old
   * process once the gateway has no request left on it. Calls made meanwhile coalesce into one
   * more reload. `cause` ("edit of handler.ts") goes into the log.
   */
  reload(cause: string): Promise<void>;
  stop(): Promise<void>;
}

/** What {@link superviseFunction} needs. */
export interface SuperviseOptions {
  spec: FunctionSpec;
  /** The gateway's routes; this function's entry is replaced on every switch. */
  routes: Map<string, GatewayRoute>;
  /** Starts one process of the function; rejects with a {@link FunctionStartError}. */
  serve(): Promise<ServedFunction>;
  /** Watching: a function that fails to start keeps the stack up and answers 503 until an edit. */
  watch: boolean;
  log(line: string): void;
}

// Requests the old process still answers get this long to finish: drain and dispatch calls
// run up to 20 s (EMAIL_DRAIN_SECONDS, WEBHOOK_DISPATCH_SECONDS).
const RETIRE_AFTER_MS = 30_000;

/**
 * Serves a function and keeps its route honest: a failed start (a broken edit) or a crash
 * leaves the route answering 503 with the reason, never pointing at a dead port. A crashed
 * function is restarted by the next reload, not on a timer, so a function that crashes at
 * every start reports once instead of looping. Without `watch`, a failed first start throws.
 */
export async function superviseFunction(options: SuperviseOptions): Promise<SupervisedFunction> {
  const { spec, routes, log } = options;
  const { name, verifyJwt } = spec;
  const afterwards = options.watch ? "It is served again after the next edit." : "Restart the stack to serve it again.";
  let active: ServedFunction | undefined;
  let stopped = false;
  const retiring = new Set<ServedFunction>();
  let running: Promise<void> | undefined;
  let pending: string | undefined;

  // The route of a function that cannot answer: the gateway answers 503 and never uses the port.
  const unavailable = (reason: string) => {
    routes.set(name, { port: 0, verifyJwt, unavailable: `${reason}. ${afterwards}` });
  };

  const failed = (error: unknown, cause?: string) => {
    const reason = error instanceof FunctionStartError ? error.reason : String((error as Error)?.message ?? error);
    active = undefined;
    unavailable(`${name} failed to start: ${reason}`);
    const after = cause ? ` after ${cause}` : "";
    log(`[${name}] failed to start${after}: ${reason}; answering 503 until the next edit`);
  };

  const retire = (fn: ServedFunction, route: GatewayRoute | undefined) => {
    retiring.add(fn);
    void (async () => {
      const deadline = Date.now() + RETIRE_AFTER_MS;
      while ((route?.inFlight ?? 0) > 0 && Date.now() < deadline && !stopped) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await fn.stop();
      retiring.delete(fn);
    })();
  };

  const adopt = (fn: ServedFunction) => {
    active = fn;
    routes.set(name, { port: fn.port, verifyJwt });
    void fn.exited.then((reason) => {
      if (active !== fn || stopped) return;
      active = undefined;
      unavailable(`${name} exited: ${reason}`);
      log(`[${name}] exited: ${reason}; answering 503 until ${options.watch ? "the next edit" : "a restart"}`);
    });
  };

  const swap = async (cause: string) => {
    const started = Date.now();
    const previous = active;
    const previousRoute = routes.get(name);
    try {
      const next = await options.serve();
      if (stopped) return void (await next.stop());
      adopt(next);
      log(`[${name}] reloaded after ${cause} (${Date.now() - started} ms)`);
    } catch (error) {
      if (stopped) return;
      // The old code stays off: a developer testing a broken edit must not get yesterday's answer.
      failed(error, cause);
    }
    if (previous) retire(previous, previousRoute);
  };

  const reload = (cause: string): Promise<void> => {
    pending = cause;
    running ??= (async () => {
      while (pending !== undefined && !stopped) {
        const next = pending;
        pending = undefined;
        await swap(next);
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  try {
    adopt(await options.serve());
  } catch (error) {
    if (!options.watch) throw error;
    failed(error);
  }

  return {
    name,
    current: () => active,
    reload,
    async stop() {
      stopped = true;
      await running;
      await Promise.all([active, ...retiring].map((fn) => fn?.stop()));
    },
  };
}
