import { HttpError } from "./http/errors.ts";
import type { RequestContext } from "./http/pipeline.ts";
import { secretsEqual } from "./secrets-equal.ts";

/** Who may call a worker function: the app's backend, or the database's wake-up. */
export type WorkerCaller = "service_role" | "wakeup";

/** The credentials a worker function accepts. */
export interface WorkerCredentials {
  serviceRoleKey?: string;
  wakeupSecret?: string;
}

/**
 * Authenticates a worker call: the service role key as a Bearer token, or the wake-up secret
 * in `x-wakeup-secret` (what pg_net sends; it is not a JWT, so the gateway cannot check it).
 * Both compared in constant time.
 */
export function authenticateWorkerCall(
  ctx: RequestContext,
  credentials: WorkerCredentials,
): Promise<{ principal: WorkerCaller }> {
  const bearer = /^Bearer\s+(.+)$/i.exec(ctx.req.headers.get("authorization") ?? "")?.[1];
  if (secretsEqual(bearer, credentials.serviceRoleKey)) return Promise.resolve({ principal: "service_role" });
  if (secretsEqual(ctx.req.headers.get("x-wakeup-secret"), credentials.wakeupSecret)) {
    return Promise.resolve({ principal: "wakeup" });
  }
  return Promise.reject(
    new HttpError(401, "unauthorized", "Send the service role key as a Bearer token.", { security: "auth_failure" }),
  );
}
