import { emptyBody, queryOf } from "../_shared/http/admin-api.ts";
import type { AuthorizedCaller } from "../_shared/http/caller-auth.ts";
import { HttpError } from "../_shared/http/errors.ts";
import type { Operation, OperationSpec } from "../_shared/http/router.ts";
import { emailReads } from "./emails.ts";
import { eventReads } from "./events.ts";
import type { OperationsDeps } from "./routes.ts";
import { emailsQuery, eventsQuery, seriesQuery } from "./schema.ts";
import { eventSeries } from "./series.ts";

const noEvent = () => new HttpError(404, "not_found", "No event with this id.");
const noEmail = () => new HttpError(404, "not_found", "No email with this id.");

/** Refuses a tenant's admin what only the platform sees: Stripe's and Resend's events, and email. */
function platformOnly(caller: AuthorizedCaller, what: string | undefined): void {
  if (what && caller.kind !== "platform") {
    throw new HttpError(403, "forbidden", `Only the platform (the service role key) may read ${what}.`);
  }
}

/** The provider a filter or component names that only the platform may read, if any. */
const platformProvider = (provider: string | undefined) =>
  provider === "stripe" || provider === "resend" ? `${provider}'s events` : undefined;

/**
 * The dashboard's reads: inbound events across providers (a list and one event with its
 * payload and audits), emails (a list and one email with its delivery events) and the events
 * chart's series. A tenant's admin reads its own sources' events only.
 */
export function readRoutes(deps: OperationsDeps, op: <B>(spec: OperationSpec<B>) => Operation): Operation[] {
  const events = eventReads(deps.sql);
  const emails = emailReads(deps.sql);
  return [
    op({
      method: "GET",
      path: "/events",
      schema: emptyBody,
      handle: async ({ ctx, caller }) => {
        const query = queryOf(eventsQuery, ctx.url);
        platformOnly(caller, platformProvider(query.provider));
        return { status: 200, body: await events.list(caller, query) };
      },
    }),

    op({
      method: "GET",
      path: "/events/:id",
      schema: emptyBody,
      handle: async ({ caller, params }) => {
        const event = await events.get(caller, params.id);
        if (!event) throw noEvent();
        return { status: 200, body: event };
      },
    }),

    op({
      method: "GET",
      path: "/emails",
      schema: emptyBody,
      handle: async ({ ctx, caller }) => {
        const query = queryOf(emailsQuery, ctx.url);
        platformOnly(caller, "emails");
        return { status: 200, body: await emails.list(query) };
      },
    }),

    op({
      method: "GET",
      path: "/emails/:id",
      schema: emptyBody,
      handle: async ({ caller, params }) => {
        platformOnly(caller, "emails");
        const email = await emails.get(params.id);
        if (!email) throw noEmail();
        return { status: 200, body: email };
      },
    }),

    op({
      method: "GET",
      path: "/emails/:id/preview",
      schema: emptyBody,
      handle: async ({ caller, params }) => {
        platformOnly(caller, "emails");
        const preview = await emails.preview(params.id);
        if (!preview) throw noEmail();
        if (preview.error) throw new HttpError(422, "template_error", preview.error);
        return { status: 200, body: preview };
      },
    }),

    op({
      method: "GET",
      path: "/series",
      schema: emptyBody,
      handle: async ({ ctx, caller }) => {
        const query = queryOf(seriesQuery, ctx.url);
        platformOnly(caller, platformProvider(query.component));
        return { status: 200, body: await eventSeries(deps.sql, caller, query) };
      },
    }),
  ];
}
