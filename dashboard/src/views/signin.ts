import { html, nothing } from "lit-html";
import type { DashboardConfig } from "../config.ts";
import { clearCredential, setCredential, whoIs } from "../session.ts";
import { api } from "../api.ts";

/** Checks a credential against the operations API before keeping it; answers why it was refused. */
async function tryCredential(token: string): Promise<string | null> {
  setCredential(token);
  try {
    await api("operations/health?window=60");
    return null;
  } catch (error) {
    clearCredential();
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Sign-in: paste the service role key or an admin JWT; against a real project with an anon key
 * configured, sign in with Supabase Auth as a user whose app_metadata.role is "admin".
 */
export function signIn(config: DashboardConfig, message: string | null, done: () => void) {
  const paste = async (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const token = String(new FormData(form).get("token") ?? "").trim();
    const refused = token ? await tryCredential(token) : "Paste a key first.";
    if (refused) return showError(form, refused);
    done();
  };
  const password = async (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    // Loaded only here: supabase-js is most of the bundle, and key sign-in does not need it.
    const { createClient } = await import("@supabase/supabase-js");
    const client = createClient(config.url, config.anonKey!, { auth: { persistSession: false } });
    const { data: session, error } = await client.auth.signInWithPassword({
      email: String(data.get("email")),
      password: String(data.get("password")),
    });
    if (error || !session.session) return showError(form, error?.message ?? "Sign-in failed.");
    if (whoIs(session.session.access_token).kind !== "tenant") {
      return showError(form, "This account is not an admin (app_metadata.role must be \"admin\" with a tenant_id).");
    }
    const refused = await tryCredential(session.session.access_token);
    if (refused) return showError(form, refused);
    done();
  };
  return html`
    <main class="signin">
      <h1>Operations</h1>
      ${message ? html`<p class="notice" role="alert">${message}</p>` : nothing}
      <form @submit=${paste} aria-label="Sign in with a key">
        <label>Service role key or admin JWT
          <input name="token" type="password" autocomplete="off" spellcheck="false" required autofocus>
        </label>
        <p class="hint">Kept for this tab only (sessionStorage). Locally: <code>npm run admin-token -- --tenant &lt;uuid&gt;</code>, or the service role key from <code>.local/stack.env</code>.</p>
        <p class="form-error" role="alert"></p>
        <button type="submit">Sign in</button>
      </form>
      ${config.anonKey ? html`
        <form @submit=${password} aria-label="Sign in with Supabase Auth">
          <label>Email<input name="email" type="email" autocomplete="username" required></label>
          <label>Password<input name="password" type="password" autocomplete="current-password" required></label>
          <p class="form-error" role="alert"></p>
          <button type="submit">Sign in as an admin</button>
        </form>` : nothing}
    </main>`;
}

function showError(form: HTMLFormElement, message: string): void {
  const slot = form.querySelector(".form-error");
  if (slot) slot.textContent = message;
}
