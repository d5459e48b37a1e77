"use client";

import dynamic from "next/dynamic";
import { useEffect, useState } from "react";

// next/dynamic puts LazyResult in its own chunk; it is fetched on the first click.
const LazyResult = dynamic(() => import("./LazyResult"), { ssr: false });

export default function ClientBits() {
  const [showLazy, setShowLazy] = useState(false);

  useEffect(() => {
    document.documentElement.setAttribute("data-hydrated", "true");
  }, []);

  return (
    <div className="flex flex-col items-center gap-2 sm:items-start">
      <button
        id="load-lazy"
        type="button"
        onClick={() => setShowLazy(true)}
        className="rounded-full border border-solid border-black/[.08] px-4 py-1.5 text-sm font-medium transition-colors hover:bg-black/[.04] dark:border-white/[.145] dark:hover:bg-[#1a1a1a]"
      >
        Load lazy module
      </button>
      {showLazy && <LazyResult />}
    </div>
  );
}
