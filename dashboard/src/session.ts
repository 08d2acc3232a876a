// The operator's credential lives in sessionStorage only: gone when the tab closes, never in a
// URL (so never in history, logs or a Referer), never written to the console.
const KEY = "ops.credential";

/** Who the credential says the operator is, decoded for display only (the API decides). */
export interface Who {
  kind: "platform" | "tenant" | "unknown";
  tenantId?: string;
}

export const getCredential = (): string | null => sessionStorage.getItem(KEY);
export const setCredential = (token: string) => sessionStorage.setItem(KEY, token.trim());
export const clearCredential = () => sessionStorage.removeItem(KEY);

/** Reads a JWT's claims without verifying them; the API verifies. */
export function whoIs(token: string): Who {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    if (claims.role === "service_role") return { kind: "platform" };
    const tenantId = claims.app_metadata?.tenant_id;
    return claims.app_metadata?.role === "admin" && tenantId ? { kind: "tenant", tenantId } : { kind: "unknown" };
  } catch {
    return { kind: "unknown" };
  }
}
