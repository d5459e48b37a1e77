// The starter (Turbopack) runs Tailwind through the `@tailwindcss/turbopack` loader
// configured in next.config.ts. `next build --webpack` ignores that rule, so there
// Tailwind runs as the usual PostCSS plugin. Next sets TURBOPACK for Turbopack builds.
const config = {
  plugins: process.env.TURBOPACK ? {} : { "@tailwindcss/postcss": {} },
};

export default config;
