import { HttpError } from "../_shared/http/errors.ts";
import { validateOrReject } from "../_shared/http/validate.ts";
import { SCHEMES } from "../_shared/webhook-verify/schemes.ts";
import type { VerifierKind } from "../_shared/webhook-verify/types.ts";
import type { SourceStore } from "./store.ts";

const invalid = (path: string, message: string, code = "invalid_request") =>
  new HttpError(400, code, `${path} ${message}.`, { details: [{ path, message }] });

/** verifier_options checked against the scheme (defaults applied); a 400 names the failing paths. */
export function schemeOptions(kind: VerifierKind, options: Record<string, unknown> | undefined) {
  return validateOrReject(SCHEMES[kind].options, options ?? {}, {
    prefix: ["verifier_options"],
    message: `verifier_options do not fit the ${kind} verifier.`,
  });
}

/**
 * The secret a source of `kind` starts with (or a rotation installs): the one given, checked
 * against the scheme; else a fresh one where we may choose it. A scheme whose provider issues
 * the secret must be given it, and one without a secret refuses one.
 */
export function schemeSecret(kind: VerifierKind, given: string | undefined): string | null {
  const scheme = SCHEMES[kind];
  if (scheme.secret === "none") {
    if (given !== undefined) throw invalid("secret", scheme.secretProblem(given) ?? "is not taken by this verifier");
    return null;
  }
  if (given === undefined) {
    if (scheme.secret === "supplied") {
      throw invalid("secret", `is required: paste the signing secret the provider's dashboard shows for ${kind}`);
    }
    return scheme.newSecret();
  }
  const problem = scheme.secretProblem(given);
  if (problem) throw invalid("secret", problem);
  return given;
}

/** A 400 `invalid_handler` unless `handler` exists as a (jsonb, jsonb) function returning text. */
export async function checkHandler(store: SourceStore, handler: string | null | undefined): Promise<void> {
  if (!handler) return;
  const problem = await store.handlerProblem(handler);
  if (problem) throw invalid("handler", problem, "invalid_handler");
}
