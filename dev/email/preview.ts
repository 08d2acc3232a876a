import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { renderTemplate, TemplateError } from "../../supabase/functions/_shared/email/render.ts";
import { loadTemplates } from "../../supabase/functions/_shared/email/templates.ts";
import { startMigratedPostgres } from "../schema/migrated.ts";
import { LOCAL_DIR, ROOT } from "../stack/paths.ts";
import { readStackEnv } from "../trigger/stack-env.ts";
import { SAMPLES } from "./samples.ts";

const USAGE = `Usage: npm run email:preview -- <template> [--order <id>] [--out <dir>]

Renders a stored email template exactly as email-service would send it (its layout, the brand
row) and writes <template>.html and <template>.txt, then prints where. The data is a sample
(dev/email/samples.ts), or with --order the order's own (order_email_data) from the database
of \`npm start\` (or DATABASE_URL when set). Without a running stack, samples render against a throwaway database that
holds the migrations' templates.

Templates with samples: ${Object.keys(SAMPLES).join(", ")}`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { order: { type: "string" }, out: { type: "string" }, help: { type: "boolean", short: "h" } },
});
const key = positionals[0];
if (values.help || !key || positionals.length > 1) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}

/** The local stack's database when it answers; else, for samples, a migrated throwaway one. */
async function database(): Promise<{ sql: postgres.Sql; close: () => Promise<void> }> {
  try {
    const url = process.env.DATABASE_URL ?? readStackEnv().DATABASE_URL;
    const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 3 });
    await sql`select 1`;
    return { sql, close: () => sql.end() };
  } catch (error) {
    if (values.order) throw new Error(`--order needs the local stack's database: ${(error as Error).message}`);
  }
  console.log("no local stack answers: migrating a throwaway database for the stored templates...");
  const db = await startMigratedPostgres(() => {});
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  return { sql, close: async () => (await sql.end(), await db.dispose()) };
}

const { sql, close } = await database();
try {
  const template = (await loadTemplates(sql, [key])).get(key);
  if (!template) {
    const known = await sql<{ key: string }[]>`select key from public.email_templates order by key`;
    throw new Error(`No template ${key}. Stored: ${known.map((row) => row.key).join(", ")}`);
  }
  let data: Record<string, unknown> | undefined = SAMPLES[key];
  if (values.order) {
    const [row] = await sql<{ data: Record<string, unknown> }[]>`
      select public.order_email_data(o) as data from public.orders o where o.id::text = ${values.order}`;
    if (!row) throw new Error(`No order ${values.order} in the local database.`);
    data = row.data;
  }
  if (!data) throw new Error(`No sample for ${key}: pass --order <id>, or add one to dev/email/samples.ts.`);
  const rendered = renderTemplate(template, data);
  const out = resolve(values.out ?? join(LOCAL_DIR, "email-preview"));
  mkdirSync(out, { recursive: true });
  const htmlFile = join(out, `${key}.html`);
  const textFile = join(out, `${key}.txt`);
  writeFileSync(htmlFile, rendered.html);
  writeFileSync(textFile, rendered.text);
  console.log(`subject: ${rendered.subject}`);
  const shown = (file: string) => (file.startsWith(ROOT) ? relative(ROOT, file) : file);
  console.log(`html:    ${shown(htmlFile)}`);
  console.log(`text:    ${shown(textFile)}`);
} catch (error) {
  console.error(error instanceof TemplateError ? `the template does not render: ${error.message}` : (error as Error).message);
  process.exitCode = 1;
} finally {
  await close();
}
