// Inlined at build time: NEXT_PUBLIC_APP_VERSION=2 builds the v2 variant, anything else v1.
export const APP_VERSION: "v1" | "v2" =
  process.env.NEXT_PUBLIC_APP_VERSION === "2" ? "v2" : "v1";
