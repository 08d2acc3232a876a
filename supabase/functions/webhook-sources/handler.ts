import { serveOperations } from "../_shared/http/admin-api.ts";
import { sourceOperations, type WebhookSourcesDeps } from "./routes.ts";

export type { WebhookSourcesDeps } from "./routes.ts";

/**
 * webhook-sources: the operators' API for inbound sources: create one and get its URL and
 * secret, change it, rotate its secret, send it a signed sample, and see its events and stats.
 */
export function createWebhookSourcesHandler(deps: WebhookSourcesDeps): (req: Request) => Promise<Response> {
  return serveOperations("webhook-sources", sourceOperations(deps), deps.logger);
}
