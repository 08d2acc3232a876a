import { createClient } from "@supabase/supabase-js";
import { createTrackingClient } from "../../client/tracking.ts";
import { readStackEnv } from "../trigger/stack-env.ts";

// Records a share and a few events with the browser tracking client against the local stack
// (npm start), as a page would with the anon key, then prints what the metrics API (service
// role only) reports for the last hour.

const PRODUCT = { content_type: "product", content_id: "demo-mug" };
const PAGE = "https://shop.example/products/demo-mug";
const FUNNEL = "page_view,view_item,add_to_cart,begin_checkout,purchase";

/**
 * supabase-js builds its realtime client in createClient, and Node 20 has no WebSocket to give
 * it. The demo opens no channel, so a transport that is never constructed will do.
 */
class NoWebSocket {
  constructor() {
    throw new Error("The demo uses no realtime channels");
  }
}

async function main() {
  const env = readStackEnv();
  const supabase = createClient(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: NoWebSocket as never },
  });
  const tracker = createTrackingClient(supabase, {
    onError: (error) => console.error(`tracking ${error.kind}: ${error.message}`),
  });
  console.log(`session ${tracker.sessionId}`);

  const share = await tracker.trackShare({
    ...PRODUCT,
    url: `${PAGE}?utm_source=demo&fbclid=x`,
    platform: "Copy Link",
  });
  console.log(`share ${share.id}: ${share.platform} ${share.url} (${share.counted ? "counted" : "not counted"})`);

  tracker.track("Page View", { url: PAGE });
  tracker.track("view_item", PRODUCT);
  tracker.track("Product Added", { ...PRODUCT, properties: { quantity: 1 } });
  tracker.track("Checkout Started");
  tracker.track("Order Completed", { properties: { value: 12.5, currency: "EUR" } });
  console.log("events sent:", await tracker.close());

  const to = new Date();
  const from = new Date(to.getTime() - 60 * 60 * 1000);
  const metrics: Record<string, Record<string, string>> = {
    events: { interval: "hour" },
    shares: { interval: "hour" },
    // Top content is counted by UTC day: the last hour's day(s).
    "top-content": {},
    funnel: { steps: FUNNEL },
  };
  for (const [name, params] of Object.entries(metrics)) {
    const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), ...params });
    const response = await fetch(`${env.SUPABASE_URL}/functions/v1/analytics-service/metrics/${name}?${query}`, {
      headers: { authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}` },
    });
    console.log(`\nGET metrics/${name} -> ${response.status}`);
    console.log(JSON.stringify(await response.json(), null, 2));
  }
}

main().catch((error) => {
  console.error(`tracking demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
