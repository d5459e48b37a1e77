import { APP_VERSION } from "@/lib/version";

// Loaded only on demand (its own chunk) by components/ClientBits.tsx.
export default function LazyResult() {
  return (
    <p id="lazy-result" className="app-accent font-mono text-sm">
      lazy {APP_VERSION}
    </p>
  );
}
