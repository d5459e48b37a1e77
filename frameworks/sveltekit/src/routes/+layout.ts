// Prerender every page at build time (required by @sveltejs/adapter-static).
export const prerender = true;
