import Handlebars from "handlebars";
import { formatDate, formatMoney } from "./format.ts";
import { TemplateError } from "./template-error.ts";

/**
 * A stored template: Handlebars (`{{name}}`, `{{#each items}}`, `{{#if discount}}`, the `money`
 * and `date` helpers), with the layout it is shown in and the brand its variables can read.
 */
export interface EmailTemplate {
  subject: string;
  html: string;
  text: string;
  /** The hidden first line inbox lists show beside the subject; read by the layout as `{{@preheader}}`. */
  preheader?: string | null;
  /** The layout, whose `{{> content}}` is the template's body; none: the body alone. */
  layout?: { html: string; text: string } | null;
  /** The shop's brand row, as `{{brand.shop_name}}` and so on. */
  brand?: Record<string, unknown> | null;
  /** False for an email a customer may opt out of; the layout reads it as `{{@transactional}}`. */
  transactional?: boolean;
}

/** A rendered email body. */
export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export { TemplateError };

// Our own instance: the helpers below and nothing a library elsewhere might register globally.
const engine = Handlebars.create();
const HELPERS = new Set(["money", "date", "required"]);

engine.registerHelper("required", function (value: unknown, options: Handlebars.HelperOptions) {
  if (value === undefined || value === null) {
    (options.data.missing as Set<string>).add(String(options.hash.name));
    return "";
  }
  return value;
});
engine.registerHelper("money", function (amount: unknown, ...rest: unknown[]) {
  const options = rest.pop() as Handlebars.HelperOptions;
  if (amount === "") return "";
  const root = options.data.root as Record<string, unknown>;
  const currency = String(rest[0] ?? root.currency ?? "");
  return formatMoney(amount, currency, localeOf(root));
});
engine.registerHelper("date", function (value: unknown, ...rest: unknown[]) {
  const options = rest.pop() as Handlebars.HelperOptions;
  if (value === "") return "";
  const root = options.data.root as Record<string, unknown>;
  const brand = (root.brand ?? {}) as Record<string, unknown>;
  return formatDate(value, localeOf(root), String(brand.time_zone ?? "UTC"), rest[0] as string | undefined);
});

function localeOf(root: Record<string, unknown>): string {
  const brand = (root.brand ?? {}) as Record<string, unknown>;
  return String(root.locale ?? brand.locale ?? "en-US");
}

const nameOf = (value: string): hbs.AST.Hash => ({
  type: "Hash",
  loc: null as unknown as hbs.AST.SourceLocation,
  pairs: [{
    type: "HashPair",
    key: "name",
    loc: null as unknown as hbs.AST.SourceLocation,
    value: { type: "StringLiteral", value, original: value, loc: null } as unknown as hbs.AST.Expression,
  }],
});
const requiredPath = { type: "PathExpression", data: false, depth: 0, parts: ["required"], original: "required" };

// Handlebars would render a missing `{{order.id}}` or a helper's missing argument as nothing.
// This rewrites every value a mustache shows, or passes to a helper, into `(required value)`,
// which records it when it is missing, so the template is refused with each missing name;
// `{{#if}}` and `{{#each}}` keep their meaning: a block over nothing is an optional block.
class RequireValues extends Handlebars.Visitor {
  override MustacheStatement(node: hbs.AST.MustacheStatement) {
    const path = node.path as hbs.AST.PathExpression;
    if (node.params.length === 0 && path.type === "PathExpression" && !HELPERS.has(path.original)) {
      node.params = [path];
      node.hash = nameOf(path.original);
      node.path = { ...requiredPath, loc: path.loc } as hbs.AST.PathExpression;
      return;
    }
    node.params = node.params.map(requireParam);
  }
  override SubExpression(node: hbs.AST.SubExpression) {
    node.params = node.params.map(requireParam);
  }
}

function requireParam(param: hbs.AST.Expression): hbs.AST.Expression {
  if (param.type !== "PathExpression") return param;
  const path = param as hbs.AST.PathExpression;
  return {
    type: "SubExpression",
    path: { ...requiredPath, loc: path.loc },
    params: [path],
    hash: nameOf(path.original),
    loc: path.loc,
  } as hbs.AST.SubExpression;
}

type Compiled = Handlebars.TemplateDelegate;
// Compiled templates by source and mode: a drain renders the same few templates thousands of
// times, and compiling costs more than rendering. Bounded, since an operator may edit them.
const compiled = new Map<string, Compiled>();
const COMPILED_MAX = 500;

function compile(source: string, escape: boolean): Compiled {
  const key = `${escape ? "h" : "t"}:${source}`;
  let template = compiled.get(key);
  if (!template) {
    let ast: hbs.AST.Program;
    try {
      ast = engine.parse(source);
    } catch (error) {
      throw new TemplateError(`template syntax: ${(error as Error).message.split("\n")[0]}`);
    }
    new RequireValues().accept(ast);
    template = engine.compile(ast, { noEscape: !escape, knownHelpers: { money: true, date: true, required: true } });
    if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, template);
  }
  return template;
}

function run(template: Compiled, context: unknown, data: Record<string, unknown>, partials?: Record<string, Compiled>) {
  try {
    return template(context, { data, partials, allowProtoPropertiesByDefault: false });
  } catch (error) {
    if (error instanceof TemplateError) throw error;
    throw new TemplateError(`template: ${(error as Error).message}`);
  }
}

/**
 * Renders a template with `data`, inside its layout. Values are HTML-escaped in the html part
 * (a customer name cannot inject markup), used as-is in text, and folded to one line in the
 * subject (no header injection). Every missing or null value a template shows is named in one
 * TemplateError; an optional block (`{{#if discount}}`) may refer to what is absent.
 */
export function renderTemplate(template: EmailTemplate, data: Record<string, unknown>): RenderedEmail {
  const context = { ...data, brand: template.brand ?? {} };
  const missing = new Set<string>();
  const frame = { missing };
  const preheader = template.preheader ? run(compile(template.preheader, false), context, frame).trim() : "";
  const part = (body: string, layout: string | undefined, escape: boolean) => {
    const content = compile(body, escape);
    const data = { ...frame, preheader, transactional: template.transactional ?? true };
    if (layout === undefined) return run(content, context, data);
    return run(compile(layout, escape), context, data, { content });
  };
  const rendered = {
    subject: run(compile(template.subject, false), context, frame).replace(/[\r\n]+/g, " ").trim(),
    html: part(template.html, template.layout?.html, true),
    text: part(template.text, template.layout?.text, false),
  };
  if (missing.size > 0) throw new TemplateError(`missing template variable(s): ${[...missing].join(", ")}`);
  return rendered;
}
