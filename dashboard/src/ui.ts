import { html, nothing, render, type TemplateResult } from "lit-html";

/** A status as a coloured badge; the colour is never the only cue (the word is always there). */
export function badge(status: string): TemplateResult {
  return html`<span class="badge badge-${status.toLowerCase()}">${status}</span>`;
}

/** The page while something loads. */
export const loading = (what = "Loading") => html`<p class="state" role="status" aria-live="polite">${what}…</p>`;

/** The page when a list has nothing in it, with what to do next. */
export const empty = (message: string, hint?: string) =>
  html`<div class="state empty"><p>${message}</p>${hint ? html`<p class="hint">${hint}</p>` : nothing}</div>`;

/** The page when a request failed, with the API's message. */
export const failure = (error: unknown) =>
  html`<div class="state error" role="alert"><p><strong>Something went wrong.</strong></p>
    <p>${error instanceof Error ? error.message : String(error)}</p></div>`;

/** An email address masked to its first character and domain, shown whole on click. */
export function masked(address: string): TemplateResult {
  const [user, domain] = address.split("@");
  const reveal = (event: Event) => {
    (event.currentTarget as HTMLElement).textContent = address;
  };
  return html`<button class="link masked" title="Show the address" @click=${reveal}>${user.slice(0, 1)}***@${domain}</button>`;
}

/** Formats an ISO time for people, in their locale. */
export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "—");

/** A percentage with one decimal, or — when there is nothing to measure. */
export const percent = (ratio: number | null | undefined) =>
  ratio === null || ratio === undefined ? "—" : `${(Number(ratio) * 100).toFixed(1)}%`;

let dialogs = 0;

/**
 * A modal <dialog> with `content` and buttons; resolves with the button chosen (Escape: the
 * last one, which is always the safe choice). Focus goes to the safe choice first.
 */
export function dialog(title: string, content: TemplateResult, buttons: { label: string; value: string; danger?: boolean }[]): Promise<string> {
  const element = document.createElement("dialog");
  element.setAttribute("aria-labelledby", `dialog-title-${++dialogs}`);
  document.body.append(element);
  return new Promise((resolve) => {
    const close = (value: string) => {
      element.close();
      element.remove();
      resolve(value);
    };
    const safe = buttons.at(-1)!.value;
    element.addEventListener("cancel", (event) => {
      event.preventDefault();
      close(safe);
    });
    render(
      html`<h2 id="dialog-title-${dialogs}">${title}</h2><div class="dialog-body">${content}</div>
        <div class="dialog-buttons">${buttons.map((b) =>
          html`<button class=${b.danger ? "danger" : ""} data-value=${b.value} @click=${() => close(b.value)}>${b.label}</button>`
        )}</div>`,
      element,
    );
    element.showModal();
    (element.querySelector(`button[data-value="${safe}"]`) as HTMLButtonElement | null)?.focus();
  });
}

/** Asks before a destructive action: true only when the operator confirms. */
export async function confirmAction(title: string, message: TemplateResult | string, confirmLabel: string): Promise<boolean> {
  const answer = await dialog(title, html`<p>${message}</p>`, [
    { label: confirmLabel, value: "yes", danger: true },
    { label: "Cancel", value: "no" },
  ]);
  return answer === "yes";
}

/** A short message at the bottom of the page, read out by screen readers. */
export function toast(message: string, kind: "ok" | "error" = "ok"): void {
  const region = document.getElementById("toasts") ?? document.body.appendChild(Object.assign(document.createElement("div"), { id: "toasts" }));
  region.setAttribute("aria-live", "polite");
  const item = Object.assign(document.createElement("p"), { className: `toast toast-${kind}`, textContent: message });
  region.append(item);
  setTimeout(() => item.remove(), 6000);
}
