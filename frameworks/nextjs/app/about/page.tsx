import Link from "next/link";

export default function About() {
  return (
    <div className="flex flex-col flex-1 items-center justify-center bg-zinc-50 font-sans dark:bg-black">
      <main
        id="about-page"
        className="flex flex-1 w-full max-w-3xl flex-col items-center justify-center gap-6 py-32 px-16 bg-white dark:bg-black sm:items-start"
      >
        <h1 className="text-3xl font-semibold tracking-tight text-black dark:text-zinc-50">
          About
        </h1>
        <p className="text-lg text-zinc-600 dark:text-zinc-400">
          A second route, reached through a client-side <code className="font-mono">next/link</code>.
        </p>
        <Link href="/" className="app-accent font-medium">
          Back home
        </Link>
      </main>
    </div>
  );
}
