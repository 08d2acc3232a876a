import { z } from "zod";
import type { Sql } from "../_shared/db.ts";
import { HttpError } from "../_shared/http/errors.ts";
import { createHandler, type PipelineDeps, type RequestContext } from "../_shared/http/pipeline.ts";
import { answerRecordedEvent } from "../_shared/inbound-event.ts";
import { inSpan } from "../_shared/telemetry/tracing.ts";
import { isUuid } from "../_shared/uuid.ts";
import { SCHEMES } from "../_shared/webhook-verify/schemes.ts";
import type { VerifierKind, Verify } from "../_shared/webhook-verify/types.ts";
import { eventKeys } from "./event-keys.ts";
import { recordInboundEvent } from "./record-event.ts";
import type { Source, SourceCache } from "./sources.ts";

/** What receiving a provider's request needs. */
export interface ReceiveDeps extends PipelineDeps {
  sql: Sql;
  sources: SourceCache;
  verifiers: Record<VerifierKind, Verify>;
  /** The functions' public base URL (…/functions/v1), or null to trust the URL the function sees. */
  publicUrl: string | null;
}

const FORM = "application/x-www-form-urlencoded";

// One answer for a malformed id, an unknown id and a disabled source, so ids cannot be probed.
const noSource = () =>
  new HttpError(404, "source_not_found", "No active inbound source has this id.", { security: "unknown_source" });

/** The URL the provider called, as it saw it: behind the gateway the function sees another host and path. */
function providerUrl(ctx: RequestContext, sourceId: string, publicUrl: string | null): URL {
  return publicUrl ? new URL(`${publicUrl}/inbound-webhook/${sourceId}${ctx.url.search}`) : ctx.url;
}

/**
 * Verifies with every secret in force. A cached source whose signature fails is looked up once
 * more before the refusal stands: its secret may have been rotated since it was cached.
 */
async function verified(deps: ReceiveDeps, ctx: RequestContext, source: Source, rawBody: string) {
  const verify = (current: Source) =>
    deps.verifiers[current.verifier]({
      rawBody,
      headers: ctx.req.headers,
      url: providerUrl(ctx, current.id, deps.publicUrl),
      secrets: current.secrets,
      options: current.verifier_options,
      toleranceSeconds: current.tolerance_seconds,
    });
  try {
    return { source, signedId: await verify(source) };
  } catch (error) {
    if (!(error instanceof HttpError) || error.status !== 401) throw error;
    const fresh = await deps.sources.get(source.id, { fresh: true });
    if (!fresh || JSON.stringify(fresh) === JSON.stringify(source)) throw error;
    return { source: fresh, signedId: await verify(fresh) };
  }
}

/**
 * A provider's request to `/inbound-webhook/<source id>`: the pipeline (405, 415, 413), then
 * the source (404, and a security event), the scheme's own body formats (415), its signature
 * (401), the event's id and type, and one transaction that records it and applies the
 * source's effect. 200 once stored (a duplicate: `duplicate: true`), 202 when it waits for an
 * async batch, 500 `effect_failed` when the handler raised, so the provider's retry applies it.
 */
export function createReceiveHandler(deps: ReceiveDeps): (req: Request) => Promise<Response> {
  return createHandler({
    name: "inbound-webhook",
    methods: ["POST"],
    pattern: "/:id",
    mediaTypes: ["application/json", FORM],
    authenticate: async (ctx, rawBody) => {
      const id = ctx.url.pathname.split("/").filter(Boolean).at(-1);
      const cached = isUuid(id) ? await deps.sources.get(id.toLowerCase()) : null;
      if (!cached) throw noSource();
      const contentType = ctx.req.headers.get("content-type")?.split(";")[0].trim().toLowerCase();
      const accepted = SCHEMES[cached.verifier].mediaTypes;
      if (!accepted.some((type) => type === contentType)) {
        throw new HttpError(415, "unsupported_media_type", `This source takes ${accepted.join(" or ")}.`);
      }
      const attributes = { provider: `source:${cached.id}`, verifier: cached.verifier };
      const principal = await inSpan("webhook.verify", attributes, async (span) => {
        const result = await verified(deps, ctx, cached, rawBody);
        span.setAttribute("outcome", "verified");
        return result;
      });
      return { principal };
    },
    schema: z.unknown(),
    handle: async ({ ctx, principal: { source, signedId }, body, rawBody }) => {
      const { id, type } = await eventKeys(source, ctx.req.headers, body, rawBody, signedId);
      const form = ctx.req.headers.get("content-type")?.toLowerCase().startsWith(FORM);
      const payload = form ? { form: body as Record<string, string> } : { json: rawBody };
      const result = await recordInboundEvent(deps.sql, { sourceId: source.id, id, type, payload }, ctx.requestId);
      return answerRecordedEvent(ctx, "Inbound", { id, type }, result, { sourceId: source.id, source: source.name });
    },
  }, deps);
}
