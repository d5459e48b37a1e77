"""The use cases: plan (pure) and apply (the one switch routine), and each command built on
them: publish, restore, rollback, gc, verify, status."""
