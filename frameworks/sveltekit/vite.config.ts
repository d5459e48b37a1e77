import adapter from '@sveltejs/adapter-static';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig, type Plugin } from 'vite';

// Build variant: VITE_APP_VERSION=v1|v2 (read by the app through import.meta.env).
const appVersion = process.env.VITE_APP_VERSION ?? 'v1';
const accent = appVersion === 'v2' ? '#2e7d32' : '#ff3e00';

// The only CSS difference between v1 and v2: the --accent colour in src/app.css.
function accentColour(): Plugin {
	return {
		name: 'app-accent-colour',
		enforce: 'pre',
		transform(code, id) {
			if (id.split('?')[0].endsWith('/src/app.css')) {
				return { code: code.replaceAll('__ACCENT__', accent), map: null };
			}
		}
	};
}

export default defineConfig({
	plugins: [
		accentColour(),
		sveltekit({
			compilerOptions: {
				// Force runes mode for the project, except for libraries. Can be removed in svelte 6.
				runes: ({ filename }) => filename.split(/[/\\]/).includes('node_modules') ? undefined : true
			},
			adapter: adapter(),
			// Deterministic build id (default is Date.now(), which lands in _app/version.json,
			// the kit runtime chunk and the inline bootstrap script of every page).
			version: { name: appVersion }
		})
	]
});
