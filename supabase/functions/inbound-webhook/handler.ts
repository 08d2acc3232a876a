import { refuseWithAccess, unmatchedRoute } from "../_shared/http/access-log.ts";
import { HttpError } from "../_shared/http/errors.ts";
import { pathSegments } from "../_shared/http/router.ts";
import { createProcessHandler, type ProcessDeps } from "./process.ts";
import { createReceiveHandler, type ReceiveDeps } from "./receive.ts";

/** What the inbound-webhook function needs. */
export type InboundWebhookDeps = ReceiveDeps & ProcessDeps;

/**
 * inbound-webhook: one function for every source. `POST /inbound-webhook/<source id>` takes
 * a provider's request; `POST /inbound-webhook` with `{"action": "process"}` runs the async
 * sources' batches. Any other path is a 404.
 */
export function createInboundWebhookHandler(deps: InboundWebhookDeps): (req: Request) => Promise<Response> {
  const receive = createReceiveHandler(deps);
  const process = createProcessHandler(deps);
  return (req) => {
    const startedAt = performance.now();
    const segments = pathSegments("inbound-webhook", new URL(req.url).pathname);
    if (segments?.length === 0) return process(req);
    if (segments?.length === 1) return receive(req);
    const route = { fn: "inbound-webhook", route: unmatchedRoute(req, "inbound-webhook"), startedAt };
    return Promise.resolve(
      refuseWithAccess(deps.logger, req, route, new HttpError(404, "not_found", "No such route.")),
    );
  };
}
