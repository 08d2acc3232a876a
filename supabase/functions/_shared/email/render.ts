/** A stored template: `{{name}}` placeholders, dotted paths allowed (`{{order.id}}`). */
export interface EmailTemplate {
  subject: string;
  html: string;
  text: string;
}

/** A rendered email body. */
export type RenderedEmail = EmailTemplate;

/** Raised when a template cannot be rendered; the job fails instead of sending a broken email. */
export class TemplateError extends Error {
  override name = "TemplateError";
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;
const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function lookup(data: unknown, path: string): unknown {
  let value = data;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

/**
 * Fills a template from `data`. Values are HTML-escaped in the html part (a customer name
 * cannot inject markup), used as-is in text, and folded to one line in the subject (no
 * header injection). Every missing variable is named in one TemplateError.
 */
export function renderTemplate(template: EmailTemplate, data: Record<string, unknown>): RenderedEmail {
  const missing = new Set<string>();
  const fill = (source: string, transform: (value: string) => string) =>
    source.replace(PLACEHOLDER, (_match, path: string) => {
      const value = lookup(data, path);
      if (value === undefined || value === null) {
        missing.add(path);
        return "";
      }
      return transform(typeof value === "object" ? JSON.stringify(value) : String(value));
    });
  const rendered = {
    subject: fill(template.subject, (v) => v).replace(/[\r\n]+/g, " ").trim(),
    html: fill(template.html, escapeHtml),
    text: fill(template.text, (v) => v),
  };
  if (missing.size > 0) throw new TemplateError(`missing template variable(s): ${[...missing].join(", ")}`);
  return rendered;
}
