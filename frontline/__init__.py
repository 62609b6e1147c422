"""The running system: configuration, PostgreSQL (embedded or not), migrations, backup, the
sample, the projector process, the HTTP server and the `frontline` command."""
