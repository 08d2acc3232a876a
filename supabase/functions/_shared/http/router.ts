import type { z } from "zod";
import { createHandler, type HandlerResult, type PipelineDeps, type RequestContext } from "./pipeline.ts";
import { authorized, type AuthorizedCaller, type Caller } from "./caller-auth.ts";

/** One method on one path pattern, served by its own pipeline handler. */
export interface Operation {
  method: Method;
  /** Segments after the function's name; ":name" captures one segment. */
  pattern: string[];
  serve(req: Request): Promise<Response>;
}

/** The methods the management APIs use. */
export type Method = "GET" | "POST" | "PATCH" | "DELETE";

/** What an operation's handler gets: the pipeline's context, the caller, the body, the path's captures. */
export interface OperationInput<B> {
  ctx: RequestContext;
  caller: AuthorizedCaller;
  body: B;
  params: Record<string, string>;
}

/** One operation of an API, before it is wired into the request pipeline. */
export interface OperationSpec<B> {
  method: Method;
  /** After the function's name, e.g. "/:id/deliveries". */
  path: string;
  /** The JSON body (GET and DELETE: none, so `{}`; the query is validated by the handler). */
  schema: z.ZodType<B>;
  /** For action routes: the body may be left out (see the pipeline's `optionalBody`). */
  optionalBody?: boolean;
  /** 403s beyond "may use this API", e.g. a tenant choosing another tenant. */
  authorize?(caller: AuthorizedCaller, body: B): void;
  handle(input: OperationInput<B>): Promise<HandlerResult>;
}

/**
 * Wires `spec` into the shared request pipeline of function `name`, so every operation gets
 * the contract's order: 415 · 413 · 401 (authenticate) · 400 (schema) · 403 (authorize) ·
 * handler. The dispatcher has already answered 404 and 405, before anything else.
 */
export function operation<B>(
  name: string,
  spec: OperationSpec<B>,
  authenticate: (req: Request) => Promise<Caller>,
  deps: PipelineDeps,
): Operation {
  const pattern = spec.path.split("/").filter(Boolean);
  const serve = createHandler<Caller, B>({
    name,
    methods: [spec.method],
    pattern: spec.path,
    optionalBody: spec.optionalBody,
    authenticate: async (ctx) => ({ principal: await authenticate(ctx.req) }),
    schema: spec.schema,
    authorize: (principal, body) => {
      const caller = authorized(principal);
      spec.authorize?.(caller, body);
    },
    handle: ({ ctx, principal, body }) =>
      spec.handle({
        ctx,
        // authorize() has already refused every other kind of caller.
        caller: authorized(principal),
        body,
        params: matchPattern(pattern, pathSegments(name, ctx.url.pathname) ?? []) ?? {},
      }),
  }, deps);
  return { method: spec.method, pattern, serve };
}

/** The path's segments after /`name` (the function's first segment), or null for a path outside it. */
export function pathSegments(name: string, pathname: string): string[] | null {
  const [first, ...rest] = pathname.split("/").filter(Boolean);
  if (first !== name) return null;
  try {
    return rest.map((segment) => decodeURIComponent(segment));
  } catch {
    return null; // malformed percent-encoding: no route can match it
  }
}

/** The captured segments when `segments` fits `pattern`, else null. */
export function matchPattern(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
    if (part.startsWith(":")) params[part.slice(1)] = segments[index];
    else if (part !== segments[index]) return null;
  }
  return params;
}
