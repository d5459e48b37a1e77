"""The local half: a build folder in, a prepared build out (scan, rewrite, classify, hash).
Nothing here touches an origin."""
