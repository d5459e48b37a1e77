import react from '@vitejs/plugin-react'
import { defineConfig, loadEnv } from 'vite'

// v1 and v2 builds differ by one CSS colour (plus the version texts in JS).
const V1_COLOUR = '#2f9e44'
const V2_COLOUR = '#d9480f'

function versionColour(version) {
  return {
    name: 'version-colour',
    transform(code, id) {
      if (version === '2' && id.split('?')[0].endsWith('/src/App.css')) {
        return { code: code.replace(V1_COLOUR, V2_COLOUR), map: null }
      }
    },
  }
}

// https://vite.dev/config/
export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, process.cwd(), 'VITE_')
  return {
    plugins: [react(), versionColour(env.VITE_APP_VERSION || '1')],
    build: {
      manifest: true,
    },
  }
})
