import { z } from "zod";
import type { Operation, OperationSpec } from "../_shared/http/router.ts";
import { HttpError } from "../_shared/http/errors.ts";
import { validateOrReject } from "../_shared/http/validate.ts";
import type { Action } from "./actions/action.ts";
import { cleanup } from "./actions/cleanup.ts";
import { cancelEmail, resendEmail } from "./actions/email.ts";
import { deleteEvents, findDuplicates, markProcessed, retryEvent, retryFailed } from "./actions/events.ts";
import { recoverEndpoint, replayDelivery } from "./actions/outbound.ts";
import { autoRemediate } from "./actions/remediate.ts";
import { audit } from "./audit.ts";
import type { OperationsDeps } from "./routes.ts";

/** Every repair action, by the name in `POST /operations/actions/<name>`. */
// deno-lint-ignore no-explicit-any
export const ACTIONS: Record<string, Action<any>> = {
  "retry-event": retryEvent,
  "retry-failed": retryFailed,
  "mark-processed": markProcessed,
  "delete-event": deleteEvents,
  "find-duplicates": findDuplicates,
  cleanup,
  "auto-remediate": autoRemediate,
  "email-cancel": cancelEmail,
  "email-resend": resendEmail,
  "replay-delivery": replayDelivery,
  "recover-endpoint": recoverEndpoint,
};

/** How long one action call keeps starting batches: inside the platform's request limit, with room to answer. */
const BUDGET_MS = 25_000;

/**
 * `POST /operations/actions/<name>`: runs one action for the caller, audited whatever happens:
 * its parameters, whether it was a dry run, the rows it touched, or the refusal it got.
 */
export function actionRoutes(deps: OperationsDeps, op: <B>(spec: OperationSpec<B>) => Operation): Operation[] {
  return [
    op({
      method: "POST",
      path: "/actions/:name",
      schema: z.record(z.string(), z.unknown()),
      optionalBody: true,
      handle: async ({ ctx, caller, body, params }) => {
        const action = Object.hasOwn(ACTIONS, params.name) ? ACTIONS[params.name] : undefined;
        if (!action) {
          throw new HttpError(
            404,
            "unknown_action",
            `No action "${params.name}". Actions: ${Object.keys(ACTIONS).join(", ")}.`,
          );
        }
        const entry = { caller, action: params.name, params: body, requestId: ctx.requestId, clientIp: ctx.clientIp };
        try {
          if (action.platformOnly && caller.kind !== "platform") {
            throw new HttpError(403, "forbidden", `Only the platform (the service role key) may run ${params.name}.`);
          }
          const input = validateOrReject(action.params, body, {
            message: `The parameters of ${params.name} are invalid.`,
          });
          const deadline = Date.now() + BUDGET_MS;
          const result = await action.run(
            { sql: deps.sql, caller, requestId: ctx.requestId, log: ctx.log, deadline, mirrored: deps.stripeMirrored },
            input,
          );
          const dryRun = input.dry_run === true;
          await audit(deps.sql, { ...entry, dryRun, touched: result.touched });
          if (!dryRun && result.touched > 0) deps.health.clear();
          ctx.log.info("operations action", { action: params.name, dryRun, touched: result.touched });
          return { status: 200, body: { action: params.name, dry_run: dryRun, ...result.body } };
        } catch (error) {
          if (error instanceof HttpError) {
            await audit(deps.sql, {
              ...entry,
              params: { ...body, refused: error.code },
              dryRun: body.dry_run === true,
              touched: 0,
            });
          }
          throw error;
        }
      },
    }),
  ];
}
