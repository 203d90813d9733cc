"""Reading record files and writing run folders. See `readers` and `writers`."""

from pipelines.io.folders import FolderBusyError, output_lock, staged_folder
from pipelines.io.readers import (
    FORMATS,
    RecordTable,
    detect_format,
    read_records,
    read_table,
    require_columns,
    require_values,
)
from pipelines.io.sources import is_glob, is_run_folder, raw_files, read_sources, source_files
from pipelines.io.writers import (
    atomic_path,
    invalidate_run,
    load_run,
    package_versions,
    read_manifest,
    sha256_file,
    verify_run,
    write_json,
    write_jsonl,
    write_manifest,
    write_parquet,
    write_run,
    write_text,
)

__all__ = [
    "FORMATS", "FolderBusyError", "RecordTable", "atomic_path", "detect_format", "invalidate_run",
    "is_glob", "is_run_folder", "load_run", "output_lock", "package_versions", "raw_files",
    "read_manifest", "read_records", "read_sources", "read_table", "staged_folder",
    "require_columns", "require_values", "sha256_file", "source_files", "verify_run",
    "write_json", "write_jsonl", "write_manifest", "write_parquet", "write_run", "write_text",
]
