import { execFile } from "node:child_process";
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, dropDatabase } from "../../dev/stack/database.ts";
import { FUNCTIONS_DIR, ROOT } from "../../dev/stack/paths.ts";
import { startThrowawayStack, type ThrowawayStack } from "../../dev/stack/throwaway.ts";
import { stack as testStack } from "../helpers/stack.ts";
import { until } from "../helpers/until.ts";

const run = promisify(execFile);

// The functions this file edits are copies: a probe written here, stripe-webhook and _shared
// copied from supabase/functions, which others keep editing.
let functionsDir: string;
let dev: ThrowawayStack;

const PROBE = `import { answer } from "./answer.ts";
import { word } from "../_shared/probe-word.ts";

const body = () => new TextEncoder().encode(JSON.stringify({ answer, word }));

Deno.serve((req) => {
  const path = new URL(req.url).pathname;
  if (path.endsWith("/crash")) setTimeout(() => { throw new Error("crashed on purpose"); });
  if (!path.endsWith("/slow")) return new Response(body(), { headers: { "content-type": "application/json" } });
  // Headers (and a blank) at once, the rest later: the caller knows this process has the request.
  return new Response(new ReadableStream({
    async start(controller) {
      controller.enqueue(new TextEncoder().encode(" "));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      controller.enqueue(body());
      controller.close();
    },
  }), { headers: { "content-type": "application/json" } });
});
`;

const write = (file: string, text: string) => writeFileSync(join(functionsDir, file), text);
const stackLog = () => readFileSync(join(dev.localDir, "stack.log"), "utf8");

const send = (name: string, path = "") =>
  fetch(`${dev.env.SUPABASE_URL}/functions/v1/${name}${path}`, {
    headers: { authorization: `Bearer ${dev.env.SUPABASE_ANON_KEY}` },
  });

async function call(name: string, path = "") {
  const res = await send(name, path);
  return { status: res.status, body: await res.json() };
}

/** The last log line that starts with `prefix`. */
const lastLogLine = (prefix: string) => stackLog().split("\n").filter((line) => line.startsWith(prefix)).at(-1);

const answerIs = (answer: string) =>
  until(() => call("probe"), (res) => res.status === 200 && res.body.answer === answer, `probe to answer ${answer}`);

const unavailableWith = (text: string) =>
  until(
    () => call("probe"),
    (res) => res.status === 503 && String(res.body.error?.message).includes(text),
    `probe to answer 503 naming ${text}`,
  );

beforeAll(async () => {
  functionsDir = mkdtempSync(join(tmpdir(), "dev-loop-functions-"));
  for (const folder of ["_shared", "stripe-webhook"]) {
    cpSync(join(FUNCTIONS_DIR, folder), join(functionsDir, folder), { recursive: true });
  }
  mkdirSync(join(functionsDir, "probe"));
  write("probe/index.ts", PROBE);
  write("probe/answer.ts", `export const answer = "first";\n`);
  write("_shared/probe-word.ts", `export const word = "alpha";\n`);
  dev = await startThrowawayStack("dev-loop", { LOG_LEVEL: "warn" }, testStack.adminUrl, undefined, {
    watch: true,
    functionsDir,
  });
});

afterAll(async () => {
  await dev?.dispose();
  rmSync(functionsDir, { recursive: true, force: true });
});

describe("dev loop: a watching stack reloads a function when its code changes", () => {
  it("serves an edit of a function's file within seconds, and logs the reload", async () => {
    expect(await call("probe")).toEqual({ status: 200, body: { answer: "first", word: "alpha" } });
    write("probe/answer.ts", `export const answer = "second";\n`);
    await answerIs("second");
    expect(stackLog()).toMatch(/\[probe\] reloaded after edit of answer\.ts \(\d+ ms\)/);
  });

  it("sees every later edit of a file an editor saved by rename-and-replace", async () => {
    write("probe/.answer.ts.swp", `export const answer = "atomic";\n`);
    renameSync(join(functionsDir, "probe/.answer.ts.swp"), join(functionsDir, "probe/answer.ts"));
    await answerIs("atomic");
    write("probe/answer.ts", `export const answer = "second";\n`);
    await answerIs("second");
  });

  it("reloads for a _shared edit exactly the functions whose module graph holds the file", async () => {
    write("_shared/probe-word.ts", `export const word = "beta";\n`);
    await until(() => call("probe"), (res) => res.body.word === "beta", "probe to import the new word");
    expect(stackLog()).toContain("[probe] reloaded after edit of _shared/probe-word.ts");
    expect(stackLog()).not.toContain("[stripe-webhook] reloaded");

    // Every function's pipeline imports the request id helper; the probe imports none of it.
    appendFileSync(join(functionsDir, "_shared/http/request-id.ts"), "// edited by dev-loop.test.ts\n");
    await until(
      async () => stackLog(),
      (log) => log.includes("[stripe-webhook] reloaded after edit of _shared/http/request-id.ts"),
      "stripe-webhook to reload",
    );
    expect(stackLog()).not.toContain("[probe] reloaded after edit of _shared/http/request-id.ts");
    expect((await call("stripe-webhook")).status).toBe(405);
  });

  it("lets requests in flight finish on the old process and refuses none during a reload", async () => {
    const slow = await send("probe", "/slow");
    expect(slow.status).toBe(200);
    let hammering = true;
    const statuses: number[] = [];
    const hammer = (async () => {
      while (hammering) statuses.push((await call("probe")).status);
    })();
    write("probe/answer.ts", `export const answer = "third";\n`);
    await answerIs("third");
    hammering = false;
    await hammer;
    expect(await slow.json()).toEqual({ answer: "second", word: "beta" });
    expect(statuses.length).toBeGreaterThan(5);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });

  it.each([
    ["a syntax error", `export const answer = ;\n`, "SyntaxError", "probe/answer.ts:1:"],
    [
      "a throw at module load",
      `export const answer = "never";\nthrow new Error("no answer today");\n`,
      "no answer today",
      "probe/answer.ts:2:",
    ],
    [
      "an exit at start over invalid configuration",
      `export const answer = "never";\nconsole.error("Invalid configuration: PROBE_LIMIT must be a number");\nDeno.exit(1);\n`,
      "Invalid configuration: PROBE_LIMIT must be a number",
      "exit code 1",
    ],
  ])(
    "answers 503 with the reason after %s, keeps serving the others, and serves the fix",
    async (_what, code, reason, where) => {
      write("probe/answer.ts", code);
      const broken = await unavailableWith(reason);
      expect(broken.body).toEqual({
        error: { code: "function_unavailable", message: expect.stringContaining(where) },
        requestId: expect.any(String),
      });
      expect(broken.body.error.message).toMatch(/^probe failed to start: .* It is served again after the next edit\.$/);
      expect(lastLogLine("[probe] failed to start after edit of answer.ts: ")).toContain(reason);
      expect((await call("stripe-webhook")).status).toBe(405);

      write("probe/answer.ts", `export const answer = "fixed";\n`);
      await answerIs("fixed");
    },
  );

  it("answers 503 after a crash at run time, without the secrets it printed, and restarts on the next edit", async () => {
    write("probe/answer.ts", `export const answer = "before the crash " + Deno.env.get("SUPABASE_JWT_SECRET");\n`);
    write("probe/index.ts", PROBE.replace(`"crashed on purpose"`, `"crashed with " + answer`));
    await until(
      () => call("probe"),
      (res) => String(res.body.answer).startsWith("before the crash"),
      "the crashing probe",
    );
    await call("probe", "/crash");
    const crashed = await unavailableWith("exited");
    expect(crashed.body.error.message).toMatch(
      /^probe exited: Uncaught Error: crashed with before the crash \[REDACTED\] \(probe\/index\.ts:\d+:\d+, exit code 1\)/,
    );
    expect(crashed.body.error.message).not.toContain(dev.env.SUPABASE_JWT_SECRET);
    expect(stackLog()).toContain("[probe] exited: Uncaught Error: crashed with before the crash [REDACTED]");

    write("probe/index.ts", PROBE);
    write("probe/answer.ts", `export const answer = "after the crash";\n`);
    await answerIs("after the crash");
  });

  it("serves a new function folder once its index.ts exists", async () => {
    mkdirSync(join(functionsDir, "probe-two"));
    write("probe-two/index.ts", `Deno.serve(() => Response.json({ two: true }));\n`);
    const res = await until(() => call("probe-two"), (r) => r.status === 200, "probe-two to be served");
    expect(res.body).toEqual({ two: true });
  });

  it("is off unless asked: the test suite's own stack does not watch", () => {
    expect(readFileSync(join(testStack.localDir, "stack.log"), "utf8")).not.toContain("watching");
  });
});

/** A copy of the repository's scripts and supabase/ folder, sharing node_modules, so a test may add migrations. */
function repositoryCopy(): string {
  const copy = mkdtempSync(join(tmpdir(), "dev-loop-repo-"));
  for (const entry of ["dev", "supabase", "deno.json", "package.json"]) {
    cpSync(join(ROOT, entry), join(copy, entry), { recursive: true, filter: (path) => !path.includes("/.temp") });
  }
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
  return copy;
}

/** Runs `npm run migrate`'s script in `copy` against `databaseUrl`. */
async function migrate(copy: string, databaseUrl: string) {
  try {
    const { stdout, stderr } = await run(join(copy, "node_modules/.bin/tsx"), ["dev/stack/migrate.ts"], {
      cwd: copy,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout = "", stderr = "" } = error as { code: number; stdout?: string; stderr?: string };
    return { code, stdout, stderr };
  }
}

describe("npm run migrate", () => {
  // A database of its own, built by the copy's own migrations: supabase/migrations may change
  // under this file while others work.
  const database = `dev_loop_migrate_${process.pid}_${Date.now()}`;
  let copy: string;
  let url: string;
  let sql: postgres.Sql;
  beforeAll(async () => {
    copy = repositoryCopy();
    url = await createDatabase(testStack.adminUrl, database);
    sql = postgres(url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await dropDatabase(testStack.adminUrl, database);
    rmSync(copy, { recursive: true, force: true });
  });

  it("applies every migration to an empty database and lists them", async () => {
    const files = readdirSync(join(copy, "supabase/migrations")).map((file) => file.replace(/\.sql$/, "")).sort();
    const built = await migrate(copy, url);
    expect(built.code).toBe(0);
    expect(built.stdout).toContain(`applied ${files.length} migration(s):\n${files.map((f) => `  ${f}\n`).join("")}`);
  });

  it("applies a new migration to a database with data, keeps the data, and says what it applied", async () => {
    const [order] = await sql`
      insert into public.orders (amount_total, currency, customer_email)
      values (4321, 'usd', 'kept@example.com') returning id`;
    writeFileSync(
      join(copy, "supabase/migrations/20991231000000_dev_loop_note.sql"),
      "alter table public.orders add column dev_loop_note text not null default 'added later';\n",
    );
    const applied = await migrate(copy, url);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain("applied 1 migration(s):\n  20991231000000_dev_loop_note\n");
    const [kept] =
      await sql`select amount_total::int, customer_email, dev_loop_note from public.orders where id = ${order.id}`;
    expect(kept).toEqual({ amount_total: 4321, customer_email: "kept@example.com", dev_loop_note: "added later" });
  });

  it("says in one line which migration failed and why, with no stack trace, and applies nothing of it", async () => {
    const broken = join(copy, "supabase/migrations/20991231000001_dev_loop_broken.sql");
    writeFileSync(
      broken,
      "create table public.dev_loop_half (id int);\nalter table public.no_such_table add column x int;\n",
    );
    const failed = await migrate(copy, url);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^npm run migrate failed: .*relation "public\.no_such_table" does not exist.* in supabase\/migrations\/20991231000001_dev_loop_broken\.sql \(details in .*migrate-error\.log\)$/,
      ),
    ]);
    const [{ half }] = await sql`select to_regclass('public.dev_loop_half') as half`;
    expect(half).toBeNull();

    rmSync(broken);
    const again = await migrate(copy, url);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("up to date: no migration to apply");
    expect(await sql`select count(*)::int as n from public.orders where customer_email = 'kept@example.com'`).toEqual([{
      n: 1,
    }]);
  });
});
