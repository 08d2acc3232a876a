import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { readStackEnv } from "../trigger/stack-env.ts";

const USAGE = `Usage: npm run admin-token -- --tenant <uuid> [--hours <n>]

Prints an admin JWT for the local stack (npm start), signed with its JWT secret: a tenant's
admin, who sees only that tenant's sources and endpoints. For the whole platform, use
SUPABASE_SERVICE_ROLE_KEY from .local/stack.env instead.`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const { values } = parseArgs({
  options: { tenant: { type: "string" }, hours: { type: "string" }, help: { type: "boolean", short: "h" } },
});
if (values.help || !values.tenant || !UUID.test(values.tenant)) {
  console.error(values.tenant && !UUID.test(values.tenant) ? `admin-token: --tenant ${values.tenant} is not a uuid\n` : "");
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
const hours = Number(values.hours ?? 12);
if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 30) {
  console.error("admin-token: --hours must be a whole number of hours, 1 to 720");
  process.exit(2);
}
const env = readStackEnv();
const token = await new SignJWT({ role: "authenticated", app_metadata: { role: "admin", tenant_id: values.tenant.toLowerCase() } })
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setSubject(crypto.randomUUID())
  .setIssuedAt()
  .setExpirationTime(`${hours}h`)
  .sign(new TextEncoder().encode(env.SUPABASE_JWT_SECRET));
console.log(token);
