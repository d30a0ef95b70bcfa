"""What one import may hold. Documented in the README ("Bulk import") and refused with a reason.

- `MAX_FILE_BYTES`: the declared size of the upload (POST /imports, 422 above it); the presigned PUT
  binds it, so S3 refuses any other size.
- `MAX_ROWS`: data rows (the header and blank lines do not count); a file with more fails whole.
- `MAX_COLUMNS`, `MAX_CELL_CHARS`: a header or a cell beyond these fails the file or the row.
- `MAX_XLSX_EXPANDED_BYTES`: what the parts of an XLSX workbook (a ZIP archive) may inflate to in all;
  a few compressed KB can claim gigabytes (a ZIP bomb), beyond the worker's memory.
- `KEPT_ERRORS`: row errors kept on the job (GET /imports/{id}); the report CSV holds every one.
"""

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
MAX_COLUMNS = 50
MAX_CELL_CHARS = 1_000
MAX_XLSX_EXPANDED_BYTES = 100 * 1024 * 1024
KEPT_ERRORS = 100
