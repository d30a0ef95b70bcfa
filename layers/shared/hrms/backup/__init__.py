"""Backups to S3 and restores (DESIGN.md section 6).

- `keys`: object names (`backups/YYYY/M/backup_full_<ts>.sql.gz`, `backups/schemas/<schema>/...`).
- `dump`: pg_dump -> gzip -> S3 multipart, streamed, sha256 computed on the fly, metadata on the object.
- `catalog`, `validate`, `cleanup`, `restore`: list, check, expire and restore backups.
- `scheduled`: the daily run of BackupFunction (full + every active tenant schema).
- `service`: what the API handlers and the CLI call (tenant ids/slugs resolved to schemas).
"""
