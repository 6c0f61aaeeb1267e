import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { svelteTesting } from "@testing-library/svelte/vite";

// Tauri serves `dist/` from its own protocol; the dev server is only for `tauri dev`.
export default defineConfig(({ mode }) => ({
  // Under Vitest (mode `test`), components resolve to Svelte's browser build and are unmounted
  // after each test; component tests ask for jsdom with `// @vitest-environment jsdom`.
  plugins: [svelte(), mode === "test" ? svelteTesting() : null],
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
}));
