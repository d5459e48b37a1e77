"""What an origin remembers and the protocols that change it: the release record (and the one
answer to "which objects does a release own"), the state object, its compare-and-swap store,
the GC lease, and the publish commit protocol."""
