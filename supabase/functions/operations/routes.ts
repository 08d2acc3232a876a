import type { Sql } from "../_shared/db.ts";
import {
  type AdminCors,
  type AdminCredentials,
  adminOperations,
  emptyBody,
  queryOf,
} from "../_shared/http/admin-api.ts";
import { HttpError } from "../_shared/http/errors.ts";
import type { PipelineDeps } from "../_shared/http/pipeline.ts";
import type { Operation, OperationSpec } from "../_shared/http/router.ts";
import { alertStore } from "./alerts.ts";
import { healthAnswer, type HealthCache, visibleTo } from "./health.ts";
import { prometheusText } from "./metrics.ts";
import { readRoutes } from "./reads.ts";
import { alertsQuery, healthQuery } from "./schema.ts";

/** What the operations API needs. */
export interface OperationsDeps extends PipelineDeps, AdminCredentials, AdminCors {
  sql: Sql;
  health: HealthCache;
  /** The Stripe object types the mirror keeps (STRIPE_MIRROR), so reprocessing writes it as stripe-webhook does. */
  stripeMirrored: ReadonlySet<string>;
}

const NAME = "operations";
const noAlert = () => new HttpError(404, "not_found", "No alert with this id.");

/** An alert id from the path: a positive integer, or the 404 of a missing row. */
function alertId(value: string | undefined): number {
  if (!value || !/^[1-9]\d{0,15}$/.test(value)) throw noAlert();
  return Number(value);
}

/** The admin operations: health, metrics, alerts and the dashboard's reads (reads.ts; the actions are in actions.ts). */
export function operationsRoutes(
  deps: OperationsDeps,
  extra: (op: <B>(spec: OperationSpec<B>) => Operation) => Operation[],
): Operation[] {
  const op = adminOperations(NAME, deps);
  const alerts = alertStore(deps.sql);

  return [
    op({
      method: "GET",
      path: "/health",
      schema: emptyBody,
      handle: async ({ ctx, caller }) => {
        const { window } = queryOf(healthQuery, ctx.url);
        return { status: 200, body: healthAnswer(visibleTo(caller, await deps.health.get(window))) };
      },
    }),

    op({
      method: "GET",
      path: "/metrics",
      schema: emptyBody,
      handle: async ({ ctx, caller }) => {
        const { window } = queryOf(healthQuery, ctx.url);
        const text = prometheusText(visibleTo(caller, await deps.health.get(window)));
        return { status: 200, body: text, headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } };
      },
    }),

    op({
      method: "GET",
      path: "/alerts",
      schema: emptyBody,
      handle: async ({ ctx, caller }) => {
        const query = queryOf(alertsQuery, ctx.url);
        return { status: 200, body: { data: await alerts.list(caller, query.status, query.limit) } };
      },
    }),

    ...(["acknowledge", "resolve"] as const).map((verb) =>
      op({
        method: "POST",
        path: `/alerts/:id/${verb}`,
        schema: emptyBody,
        optionalBody: true,
        handle: async ({ ctx, caller, params }) => {
          const alert = await alerts.transition(
            caller,
            alertId(params.id),
            verb === "acknowledge" ? "acknowledged" : "resolved",
          );
          if (!alert) throw noAlert();
          ctx.log.info(`alert ${verb}d`, { alertId: alert.id, status: alert.status });
          return { status: 200, body: alert };
        },
      })
    ),

    ...readRoutes(deps, op),

    ...extra(op),
  ];
}
