// Build variant, chosen at build time: VITE_APP_VERSION=1 (default) or 2.
export const APP_VERSION = `v${import.meta.env.VITE_APP_VERSION || '1'}`
