import type { Sql } from "../_shared/db.ts";
import { HttpError } from "../_shared/http/errors.ts";
import type { PipelineDeps } from "../_shared/http/pipeline.ts";
import {
  type AdminCors,
  type AdminCredentials,
  adminOperations,
  defined,
  emptyBody,
  idParam,
  ownTenant,
  queryOf,
} from "../_shared/http/admin-api.ts";
import type { Resolver, UrlPolicy } from "../_shared/ssrf.ts";
import type { Operation } from "../_shared/http/router.ts";
import {
  createEndpointBody,
  listDeliveriesQuery,
  listEndpointsQuery,
  recoverBody,
  rotateBody,
  updateEndpointBody,
} from "./schema.ts";
import { rotationInProgress } from "../_shared/secret-rotation.ts";
import { newSigningSecret } from "../_shared/signing-secret.ts";
import { endpointStore } from "./store.ts";
import { acceptableEndpointUrl } from "./url.ts";

/** What the webhook-endpoints function needs. */
export interface WebhookEndpointsDeps extends PipelineDeps, AdminCredentials, AdminCors {
  sql: Sql;
  urlPolicy: UrlPolicy;
  /** The SSRF guard's resolver; the system's by default, a fake in unit tests. */
  resolve?: Resolver;
}

// Another tenant's endpoint gets exactly this answer too: a tenant cannot probe for ids.
const noEndpoint = () => new HttpError(404, "not_found", "No webhook endpoint with this id.");
const noDelivery = () => new HttpError(404, "not_found", "No delivery with this id for this endpoint.");

/** Every operation of the management API, each wired into the shared request pipeline. */
export function endpointOperations(deps: WebhookEndpointsDeps): Operation[] {
  const store = endpointStore(deps.sql);
  const checkUrl = (raw: string) => acceptableEndpointUrl(raw, deps.urlPolicy, deps.resolve);
  const op = adminOperations("webhook-endpoints", deps);

  return [
    op({
      method: "GET",
      path: "/",
      schema: emptyBody,
      handle: async ({ ctx, caller }) => {
        const query = queryOf(listEndpointsQuery, ctx.url);
        if (!ownTenant(caller, query.tenant_id)) {
          throw new HttpError(403, "forbidden", "A tenant can list only its own endpoints.");
        }
        const page = await store.list(caller, { limit: query.limit, cursor: query.cursor, tenantId: query.tenant_id });
        return { status: 200, body: page };
      },
    }),

    op({
      method: "POST",
      path: "/",
      schema: createEndpointBody,
      authorize: (caller, body) => {
        if (!ownTenant(caller, body.tenant_id)) {
          throw new HttpError(403, "forbidden", "Only the platform may create endpoints for another tenant.");
        }
      },
      handle: async ({ ctx, caller, body }) => {
        const url = await checkUrl(body.url);
        const tenantId = caller.kind === "tenant" ? caller.tenantId : body.tenant_id ?? null;
        // The secret is generated here and shown in this response only; GET never returns it.
        const endpoint = await store.create(defined({ ...body, url, tenant_id: tenantId, secret: newSigningSecret() }));
        ctx.log.info("webhook endpoint created", { endpointId: endpoint.id, tenantId });
        return { status: 201, body: endpoint };
      },
    }),

    op({
      method: "GET",
      path: "/:id",
      schema: emptyBody,
      handle: async ({ caller, params }) => {
        const endpoint = await store.get(caller, idParam(params.id, noEndpoint));
        if (!endpoint) throw noEndpoint();
        return { status: 200, body: endpoint };
      },
    }),

    op({
      method: "PATCH",
      path: "/:id",
      schema: updateEndpointBody,
      handle: async ({ ctx, caller, body, params }) => {
        const id = idParam(params.id, noEndpoint);
        const url = body.url === undefined ? undefined : await checkUrl(body.url);
        // `active: true` re-enables from scratch: an automatic disabling and an open circuit
        // are cleared, so an operator can also use it to close a circuit by hand.
        const endpoint = await store.update(caller, id, defined({ ...body, url }), body.active === true);
        if (!endpoint) throw noEndpoint();
        ctx.log.info("webhook endpoint updated", { endpointId: id, fields: Object.keys(defined(body)) });
        return { status: 200, body: endpoint };
      },
    }),

    op({
      method: "DELETE",
      path: "/:id",
      schema: emptyBody,
      handle: async ({ ctx, caller, params }) => {
        const id = idParam(params.id, noEndpoint);
        if (!(await store.remove(caller, id))) throw noEndpoint();
        ctx.log.info("webhook endpoint deleted", { endpointId: id });
        return { status: 204, body: null };
      },
    }),

    op({
      method: "POST",
      path: "/:id/rotate-secret",
      schema: rotateBody,
      optionalBody: true,
      handle: async ({ ctx, caller, params, body }) => {
        const id = idParam(params.id, noEndpoint);
        const result = await store.rotateSecret(caller, id, newSigningSecret(), body.expire_previous ?? false);
        if (!result) throw noEndpoint();
        if (result.outcome === "in_progress") throw rotationInProgress(result.previousExpiresAt);
        ctx.log.info("webhook endpoint secret rotated", {
          endpointId: id,
          expirePrevious: body.expire_previous ?? false,
        });
        return { status: 200, body: result.row };
      },
    }),

    op({
      method: "POST",
      path: "/:id/test",
      schema: emptyBody,
      optionalBody: true,
      handle: async ({ caller, params }) => {
        const eventId = await store.sendTest(caller, idParam(params.id, noEndpoint));
        if (!eventId) throw noEndpoint();
        return { status: 202, body: { event_id: eventId } };
      },
    }),

    op({
      method: "GET",
      path: "/:id/deliveries",
      schema: emptyBody,
      handle: async ({ ctx, caller, params }) => {
        const id = idParam(params.id, noEndpoint);
        const query = queryOf(listDeliveriesQuery, ctx.url);
        const page = await store.deliveries(caller, id, query);
        if (!page) throw noEndpoint();
        return { status: 200, body: page };
      },
    }),

    op({
      method: "POST",
      path: "/:id/deliveries/:deliveryId/replay",
      schema: emptyBody,
      optionalBody: true,
      handle: async ({ ctx, caller, params }) => {
        const id = idParam(params.id, noEndpoint);
        const deliveryId = idParam(params.deliveryId, noDelivery);
        const replayed = await store.replay(caller, id, deliveryId);
        if (replayed === null) throw noDelivery();
        if (!replayed) {
          throw new HttpError(409, "delivery_in_flight", "The delivery is being attempted right now; retry shortly.");
        }
        ctx.log.info("webhook delivery replayed", { endpointId: id, deliveryId });
        return { status: 202, body: { delivery_id: deliveryId, status: "PENDING" } };
      },
    }),

    op({
      method: "POST",
      path: "/:id/recover",
      schema: recoverBody,
      handle: async ({ ctx, caller, body, params }) => {
        const id = idParam(params.id, noEndpoint);
        const replayed = await store.recover(caller, id, body.from, body.to);
        if (replayed === null) throw noEndpoint();
        ctx.log.info("webhook deliveries recovered", { endpointId: id, from: body.from, to: body.to, replayed });
        return { status: 202, body: { replayed } };
      },
    }),
  ];
}
