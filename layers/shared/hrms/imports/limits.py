"""What one import may hold. Documented in the README ("Bulk import") and refused with a reason.

- `MAX_FILE_BYTES`: the declared size of the upload (POST /imports, 422 above it); the presigned PUT
  binds it, so S3 refuses any other size.
- `MAX_ROWS`: data rows (the header and blank lines do not count); a file with more fails whole.
- `MAX_COLUMNS`, `MAX_CELL_CHARS`: a header or a cell beyond these fails the file or the row.
- `KEPT_ERRORS`: row errors kept on the job (GET /imports/{id}); the report CSV holds every one.
"""

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
MAX_COLUMNS = 50
MAX_CELL_CHARS = 1_000
KEPT_ERRORS = 100
