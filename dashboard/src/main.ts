import { html, render, type TemplateResult } from "lit-html";
import { ApiError, configureApi, SignedOut } from "./api.ts";
import { type DashboardConfig, loadConfig } from "./config.ts";
import { here } from "./router.ts";
import { clearCredential, getCredential, whoIs } from "./session.ts";
import { failure, loading } from "./ui.ts";
import { emails } from "./views/emails.ts";
import { endpointDetail, endpoints } from "./views/endpoints.ts";
import { eventDetail, events } from "./views/events.ts";
import { overview } from "./views/overview.ts";
import { signIn } from "./views/signin.ts";
import { sources } from "./views/sources.ts";
import "./style.css";

const NAV: [string, string][] = [
  ["/overview", "Overview"],
  ["/events", "Inbound events"],
  ["/emails", "Email"],
  ["/endpoints", "Partner endpoints"],
  ["/sources", "Sources"],
];
const TAIL_SECONDS = 5;

const app = document.getElementById("app")!;
// The static "Loading…" of index.html is replaced, not kept above what lit-html renders.
app.replaceChildren();
let config: DashboardConfig;
let signInMessage: string | null = null;
let tail: ReturnType<typeof setInterval> | null = null;
let renderCount = 0;

/** The view for the current location. */
function view(rerender: () => void): Promise<TemplateResult> {
  const { path } = here();
  const [, section, id] = path.split("/");
  if (section === "events" && id) return eventDetail(id, rerender);
  if (section === "events") return events(rerender);
  if (section === "emails") return emails(rerender);
  if (section === "endpoints" && id) return endpointDetail(id, rerender);
  if (section === "endpoints") return endpoints(rerender);
  if (section === "sources") return sources(rerender);
  return overview(rerender);
}

function toggleTail() {
  if (tail) {
    clearInterval(tail);
    tail = null;
  } else {
    tail = setInterval(() => void show(true), TAIL_SECONDS * 1000);
  }
  void show(true);
}

function shell(content: TemplateResult): TemplateResult {
  const who = whoIs(getCredential() ?? "");
  const { path } = here();
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <nav aria-label="Views">${NAV.map(([href, label]) =>
        html`<a href="#${href}" aria-current=${path.startsWith(href) ? "page" : "false"}>${label}</a>`)}</nav>
      <div class="session">
        <button aria-pressed=${tail ? "true" : "false"} @click=${toggleTail}>${tail ? `Live (every ${TAIL_SECONDS} s): pause` : "Live refresh"}</button>
        <span class="who">${who.kind === "platform" ? "Platform" : who.kind === "tenant" ? `Tenant ${who.tenantId}` : "Signed in"}</span>
        <button @click=${signOut}>Sign out</button>
      </div>
    </header>
    <main id="main" tabindex="-1">${content}</main>`;
}

function signOut() {
  clearCredential();
  if (tail) clearInterval(tail);
  tail = null;
  signInMessage = "Signed out.";
  void show();
}

/** Renders the current location; `quiet` keeps the old page until the new one is ready (live refresh). */
async function show(quiet = false): Promise<void> {
  const mine = ++renderCount;
  if (!getCredential()) {
    render(signIn(config, signInMessage, () => {
      signInMessage = null;
      void show();
    }), app);
    return;
  }
  if (!quiet) render(shell(loading()), app);
  try {
    const content = await view(() => void show(true));
    if (mine === renderCount) render(shell(content), app);
  } catch (error) {
    if (error instanceof SignedOut) {
      signInMessage = error.message;
      if (tail) clearInterval(tail);
      tail = null;
      return show();
    }
    if (mine === renderCount) {
      render(shell(error instanceof ApiError && error.status === 404 ? failure(new Error("Not found: it may have been deleted.")) : failure(error)), app);
    }
  }
}

window.addEventListener("hashchange", () => void show());
loadConfig().then((loaded) => {
  config = loaded;
  configureApi(config);
  return show();
}, (error) => render(failure(error), app));
