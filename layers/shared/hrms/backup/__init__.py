"""Backups to S3 and restores (DESIGN.md section 6).

- `keys`: object names (`backups/YYYY/M/backup_full_<ts>.sql.gz` for the cell `default`,
  `backups/cells/<cell>/YYYY/M/...` for another cell, `backups/schemas/<schema>/...`, and each backup's MongoDB
  part beside its dump, `....mongo.gz`).
- `dump`: the MongoDB part (`mongo_part`), then pg_dump -> gzip -> S3 multipart, streamed, sha256 computed on
  the fly, the metadata of both parts on the dump's object.
- `mongo_part`: the MongoDB part's format, streamed dump, checks, staging and swap for restores.
- `cell_scope`: which documents go with a cell's full backup, and which a restore of it replaces.
- `catalog`, `validate`, `cleanup`, `restore`: list, check, expire and restore backups (both parts, as one);
  `restore.recover` settles a tenant restore that died midway, from its journal (`public.tenant_write_freezes`).
- `scheduled`: the daily run of BackupFunction (a full backup of every cell + every active tenant schema).
- `service`: what the API handlers and the CLI call (tenant ids/slugs resolved to schemas).
"""
