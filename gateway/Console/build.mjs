// Bundles the console (src/) with @xmpp/client into wwwroot/console.js, which is committed so that
// `dotnet run --project gateway` serves /console with no build step. Run: npm ci && npm run build
import { build } from "esbuild";

// @xmpp/resolve imports node:dns for SRV lookups that a browser never makes (its browser field misses the ".js"
// path); every node: builtin becomes an empty module instead of a failed build.
const emptyNodeBuiltins = {
  name: "empty-node-builtins",
  setup(builder) {
    builder.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: "empty" }));
    builder.onLoad({ filter: /.*/, namespace: "empty" }, () => ({ contents: "export default {};", loader: "js" }));
  },
};

await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  format: "iife",
  platform: "browser",
  target: "es2020",
  legalComments: "eof",
  // ConsoleBundle_Tests builds elsewhere and compares, so that the committed bundle never drifts from src/.
  outfile: process.env.MMSS_CONSOLE_OUTFILE ?? "wwwroot/console.js",
  plugins: [emptyNodeBuiltins],
  logLevel: "info",
});
