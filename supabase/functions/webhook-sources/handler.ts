import { serveAdminApi } from "../_shared/http/admin-api.ts";
import { sourceOperations, type WebhookSourcesDeps } from "./routes.ts";

export type { WebhookSourcesDeps } from "./routes.ts";

/**
 * webhook-sources: the operators' API for inbound sources: create one and get its URL and
 * secret, change it, rotate its secret, send it a signed sample, and see its events and stats; callable from the browser origins in `deps.cors`.
 */
export function createWebhookSourcesHandler(deps: WebhookSourcesDeps): (req: Request) => Promise<Response> {
  return serveAdminApi("webhook-sources", sourceOperations(deps), deps);
}
