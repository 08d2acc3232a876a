import type { PipelineDeps } from "../_shared/http/pipeline.ts";
import type { Caller } from "../_shared/http/caller-auth.ts";
import * as shared from "../_shared/http/router.ts";

export type { Method, Operation, OperationInput, OperationSpec } from "../_shared/http/router.ts";
export { matchPattern } from "../_shared/http/router.ts";

// The function's name, which is also the first segment of every path it is called with.
const FUNCTION_NAME = "webhook-endpoints";

/** The shared router's `operation`, for webhook-endpoints. */
export function operation<B>(
  spec: shared.OperationSpec<B>,
  authenticate: (req: Request) => Promise<Caller>,
  deps: PipelineDeps,
): shared.Operation {
  return shared.operation(FUNCTION_NAME, spec, authenticate, deps);
}

/** The path's segments after /webhook-endpoints, or null for a path outside the function. */
export function pathSegments(pathname: string): string[] | null {
  return shared.pathSegments(FUNCTION_NAME, pathname);
}
