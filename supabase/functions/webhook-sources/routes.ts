import type { Sql } from "../_shared/db.ts";
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
import type { AuthorizedCaller } from "../_shared/http/caller-auth.ts";
import { HttpError } from "../_shared/http/errors.ts";
import type { PipelineDeps } from "../_shared/http/pipeline.ts";
import type { Operation } from "../_shared/http/router.ts";
import { rotationInProgress } from "../_shared/secret-rotation.ts";
import { SCHEMES } from "../_shared/webhook-verify/schemes.ts";
import type { VerifierKind } from "../_shared/webhook-verify/types.ts";
import {
  createSourceBody,
  listEventsQuery,
  listSourcesQuery,
  rotateSourceBody,
  testSourceBody,
  updateSourceBody,
} from "./schema.ts";
import { checkHandler, schemeOptions, schemeSecret } from "./settings.ts";
import { sourceStore, type SourceView } from "./store.ts";
import { sendTest } from "./send-test.ts";

/** What the webhook-sources function needs. */
export interface WebhookSourcesDeps extends PipelineDeps, AdminCredentials, AdminCors {
  sql: Sql;
  /** The functions' public base URL (…/functions/v1): sources' URLs are built on it. */
  publicUrl: string;
  /** How test samples are sent; fetch by default. */
  fetch?: typeof fetch;
}

const NAME = "webhook-sources";
// Another tenant's source gets exactly this answer too: a tenant cannot probe for ids.
const noSource = () => new HttpError(404, "not_found", "No inbound source with this id.");

/** Every operation of the sources API, each wired into the shared request pipeline. */
export function sourceOperations(deps: WebhookSourcesDeps): Operation[] {
  const store = sourceStore(deps.sql);
  const op = adminOperations(NAME, deps);
  const urlOf = (id: string) => `${deps.publicUrl}/inbound-webhook/${id}`;
  // What every answer shows of a source: its URL, and whether requests to it are verified at all.
  // The caller's source named by the path, or its 404.
  const existing = async (caller: AuthorizedCaller, params: Record<string, string>) => {
    const source = await store.get(caller, idParam(params.id, noSource));
    if (!source) throw noSource();
    return { id: source.id, source, kind: source.verifier as VerifierKind };
  };
  const view = <T extends SourceView>(source: T) => ({
    ...source,
    url: urlOf(source.id),
    verified: source.verifier !== "none",
  });

  return [
    op({
      method: "GET",
      path: "/",
      schema: emptyBody,
      handle: async ({ ctx, caller }) => {
        const query = queryOf(listSourcesQuery, ctx.url);
        if (!ownTenant(caller, query.tenant_id)) {
          throw new HttpError(403, "forbidden", "A tenant can list only its own sources.");
        }
        const page = await store.list(caller, { limit: query.limit, cursor: query.cursor, tenantId: query.tenant_id });
        return { status: 200, body: { ...page, data: page.data.map(view) } };
      },
    }),

    op({
      method: "POST",
      path: "/",
      schema: createSourceBody,
      authorize: (caller, body) => {
        if (!ownTenant(caller, body.tenant_id)) {
          throw new HttpError(403, "forbidden", "Only the platform may create sources for another tenant.");
        }
      },
      handle: async ({ ctx, caller, body }) => {
        const scheme = SCHEMES[body.verifier];
        const verifier_options = schemeOptions(body.verifier, body.verifier_options);
        const secret = schemeSecret(body.verifier, body.secret);
        await checkHandler(store, body.handler);
        const tenantId = caller.kind === "tenant" ? caller.tenantId : body.tenant_id ?? null;
        // The secret is shown in this response only; GET never returns it.
        const source = await store.create(defined({
          ...body,
          verifier_options,
          secret,
          tenant_id: tenantId,
          event_id: body.event_id === undefined ? scheme.eventId : body.event_id,
          event_type: body.event_type === undefined ? scheme.eventType : body.event_type,
        }));
        ctx.log.info("inbound source created", { sourceId: source.id, verifier: source.verifier, tenantId });
        return { status: 201, body: view(source) };
      },
    }),

    op({
      method: "GET",
      path: "/:id",
      schema: emptyBody,
      handle: async ({ caller, params }) => ({ status: 200, body: view((await existing(caller, params)).source) }),
    }),

    op({
      method: "PATCH",
      path: "/:id",
      schema: updateSourceBody,
      handle: async ({ ctx, caller, body, params }) => {
        const { id, kind } = await existing(caller, params);
        const verifier_options = body.verifier_options === undefined
          ? undefined
          : schemeOptions(kind, body.verifier_options);
        await checkHandler(store, body.handler);
        const source = await store.update(caller, id, defined({ ...body, verifier_options }));
        if (!source) throw noSource();
        ctx.log.info("inbound source updated", { sourceId: id, fields: Object.keys(defined(body)) });
        return { status: 200, body: view(source) };
      },
    }),

    op({
      method: "DELETE",
      path: "/:id",
      schema: emptyBody,
      handle: async ({ ctx, caller, params }) => {
        const id = idParam(params.id, noSource);
        if (!(await store.remove(caller, id))) throw noSource();
        ctx.log.info("inbound source deleted", { sourceId: id });
        return { status: 204, body: null };
      },
    }),

    op({
      method: "POST",
      path: "/:id/rotate-secret",
      schema: rotateSourceBody,
      optionalBody: true,
      handle: async ({ ctx, caller, params, body }) => {
        const { id, kind } = await existing(caller, params);
        if (SCHEMES[kind].secret === "none") {
          throw new HttpError(409, "no_secret", `A ${kind} source has no secret to rotate.`);
        }
        const secret = schemeSecret(kind, body.secret)!;
        const result = await store.rotateSecret(caller, id, secret, body.expire_previous ?? false);
        if (!result) throw noSource();
        if (result.outcome === "in_progress") throw rotationInProgress(result.previousExpiresAt);
        ctx.log.info("inbound source secret rotated", { sourceId: id, expirePrevious: body.expire_previous ?? false });
        return { status: 200, body: view(result.row) };
      },
    }),

    op({
      method: "POST",
      path: "/:id/test",
      schema: testSourceBody,
      optionalBody: true,
      handle: async ({ ctx, caller, params, body }) => {
        const id = idParam(params.id, noSource);
        const [source, secret] = await Promise.all([store.get(caller, id), store.secretOf(caller, id)]);
        if (!source || !secret) throw noSource();
        const report = await sendTest(deps.fetch ?? fetch, {
          kind: source.verifier as VerifierKind,
          secret: secret.secret,
          options: source.verifier_options as Record<string, unknown>,
          url: urlOf(id),
          type: body.type,
        });
        ctx.log.info("inbound source tested", { sourceId: id, status: report.response.status });
        return { status: 200, body: report };
      },
    }),

    op({
      method: "GET",
      path: "/:id/stats",
      schema: emptyBody,
      handle: async ({ caller, params }) => {
        const id = idParam(params.id, noSource);
        const [source, stats] = await Promise.all([store.get(caller, id), store.stats(caller, id)]);
        if (!source || !stats) throw noSource();
        const settled = stats.total - (stats.by_status.pending ?? 0);
        const failed = stats.by_status.failed ?? 0;
        return {
          status: 200,
          body: {
            source_id: id,
            verified: source.verifier !== "none",
            ...stats,
            success_rate: settled > 0 ? (settled - failed) / settled : null,
          },
        };
      },
    }),

    op({
      method: "GET",
      path: "/:id/events",
      schema: emptyBody,
      handle: async ({ ctx, caller, params }) => {
        const id = idParam(params.id, noSource);
        const page = await store.events(caller, id, queryOf(listEventsQuery, ctx.url));
        if (!page) throw noSource();
        return { status: 200, body: page };
      },
    }),
  ];
}
