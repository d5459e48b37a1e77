// Loaded through React.lazy (dynamic import()): Vite emits it as its own chunk.
export default function LazyResult() {
  return (
    <p id="lazy-result">lazy v{import.meta.env.VITE_APP_VERSION || '1'}</p>
  )
}
