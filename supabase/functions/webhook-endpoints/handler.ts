import { serveAdminApi } from "../_shared/http/admin-api.ts";
import { endpointOperations, type WebhookEndpointsDeps } from "./routes.ts";

export type { WebhookEndpointsDeps } from "./routes.ts";

/**
 * webhook-endpoints: the partners' and operators' API for outbound webhook endpoints, their
 * secrets and their deliveries; callable from the browser origins in `deps.cors`.
 */
export function createWebhookEndpointsHandler(deps: WebhookEndpointsDeps): (req: Request) => Promise<Response> {
  return serveAdminApi("webhook-endpoints", endpointOperations(deps), deps);
}
