import type { z } from "zod";
import { createLogger, type LineSink } from "../log.ts";

/** What is wrong with one variable, in words that never include its value. */
export interface ConfigProblem {
  variable: string;
  problem: string;
}

const describe = (problems: ConfigProblem[]) => problems.map((p) => `${p.variable} ${p.problem}`).join("; ");

/** A configuration that cannot be used: which variables are wrong, and how. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`Invalid configuration: ${describe(problems)}`);
    this.name = "ConfigError";
  }
}

/**
 * Reads one function's configuration from an environment object (`Deno.env.toObject()` at the
 * edge, a plain object in tests): exactly the variables `schema` names, defaults applied.
 * Throws a {@link ConfigError} naming every bad variable at once, but never its value: a
 * secret pasted into the wrong variable must not reach the logs.
 */
export function readConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  // An empty variable means "not set": `MAX_BODY_BYTES=` in a .env file gets the default.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const result = schema.safeParse(given);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = String(issue.path[0]);
    return { variable, problem: variable in given ? `is invalid (${issue.message})` : "is not set" };
  });
  throw new ConfigError(problems);
}

/**
 * Function `name`'s configuration, or, when it cannot be used, one log line that names each bad
 * variable and then `exit(1)`: a function that starts without its secret would answer 500 to
 * every request instead of failing where its deploy is watched.
 */
export function configOrExit<S extends z.ZodType>(
  name: string,
  schema: S,
  env: Record<string, string | undefined>,
  exit: (code: number) => never,
  sink?: LineSink,
): z.infer<S> {
  try {
    return readConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const variables = [...new Set(error.problems.map((p) => p.variable))];
    createLogger({ fn: name }, { sink }).error(`not starting: ${describe(error.problems)}`, { variables });
    return exit(1);
  }
}
