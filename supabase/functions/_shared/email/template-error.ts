/** Raised when a template cannot be rendered; the job fails instead of sending a broken email. */
export class TemplateError extends Error {
  override name = "TemplateError";
}
