import path from "node:path";
import type { NextConfig } from "next";

// Build variant: NEXT_PUBLIC_APP_VERSION=1 (default) or 2. The only CSS that differs
// between the variants is the accent colour file picked here through a resolve alias.
const variant = process.env.NEXT_PUBLIC_APP_VERSION === "2" ? "v2" : "v1";
const accentCss = `./styles/accent-${variant}.css`;

const nextConfig: NextConfig = {
  /* config options here */
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  // The starter's `cacheComponents: true` and `partialPrefetching: true` are removed:
  // static export fails with "Invariant: PPR cannot be enabled in export mode".
  turbopack: {
    rules: {
      "*.css": {
        loaders: ["@tailwindcss/turbopack"],
        as: "*.css",
      },
    },
    resolveAlias: {
      "app-accent.css": accentCss,
    },
  },
  // Only used by `next build --webpack` (Turbopack ignores this function).
  webpack: (config) => {
    config.resolve.alias["app-accent.css"] = path.resolve(process.cwd(), accentCss);
    return config;
  },
};

export default nextConfig;
