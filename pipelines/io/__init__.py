"""Reading record files and writing run folders. See `readers` and `writers`."""

from pipelines.io.readers import (
    FORMATS,
    RecordTable,
    detect_format,
    read_records,
    read_table,
    require_columns,
)
from pipelines.io.writers import (
    atomic_path,
    load_run,
    package_versions,
    read_manifest,
    sha256_file,
    verify_run,
    write_json,
    write_jsonl,
    write_parquet,
    write_run,
    write_text,
)

__all__ = [
    "FORMATS", "RecordTable", "atomic_path", "detect_format", "load_run", "package_versions",
    "read_manifest", "read_records", "read_table", "require_columns", "sha256_file", "verify_run",
    "write_json", "write_jsonl", "write_parquet", "write_run", "write_text",
]
