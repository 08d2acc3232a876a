import { errorResponse, HttpError } from "../_shared/http/errors.ts";
import { requestIdOf } from "../_shared/http/request-id.ts";
import { matchPattern, pathSegments } from "./router.ts";
import { endpointOperations, type WebhookEndpointsDeps } from "./routes.ts";

export type { WebhookEndpointsDeps } from "./routes.ts";

/**
 * webhook-endpoints: the partners' and operators' API for outbound webhook endpoints, their
 * secrets and their deliveries. Routes by path first (unknown → 404, known path with another
 * method → 405 with Allow), then hands the request to that operation's pipeline.
 */
export function createWebhookEndpointsHandler(deps: WebhookEndpointsDeps): (req: Request) => Promise<Response> {
  const operations = endpointOperations(deps);

  const refuse = (req: Request, error: HttpError) => {
    const requestId = requestIdOf(req);
    deps.logger.with({ requestId }).info("request refused", { status: error.status, code: error.code });
    return Promise.resolve(errorResponse(error, requestId));
  };

  return (req) => {
    const segments = pathSegments(new URL(req.url).pathname);
    const onPath = segments ? operations.filter((op) => matchPattern(op.pattern, segments)) : [];
    if (onPath.length === 0) return refuse(req, new HttpError(404, "not_found", "No such route."));
    const op = onPath.find((candidate) => candidate.method === req.method);
    if (!op) {
      const allow = onPath.map((candidate) => candidate.method).join(", ");
      return refuse(req, new HttpError(405, "method_not_allowed", `Use ${allow}.`, { headers: { allow } }));
    }
    return op.serve(req);
  };
}
