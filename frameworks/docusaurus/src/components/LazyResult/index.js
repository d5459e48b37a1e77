// Loaded only through dynamic import() from the homepage: lives in its own chunk.
export default function LazyResult() {
  return <p id="lazy-result">{`lazy ${__APP_VERSION__}`}</p>;
}
