import { defineConfig } from "vite";

// The operator dashboard: a static single-page app. `base: "./"` makes the built files work
// from any folder of any static host; the project it talks to comes from config.json at run time.
export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  logLevel: "warn",
});
