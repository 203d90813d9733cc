import json

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.errors import InputError
from pipelines.io import read_records, read_table, require_columns


def test_reads_every_format_to_the_same_rows(tmp_path, write_lines):
    rows = [{"text": "a b", "label": "x"}, {"text": "c", "label": "y"}]
    write_lines("r.jsonl", [json.dumps(r) for r in rows])
    write_lines("r.json", json.dumps(rows))
    write_lines("r.csv", ["text,label", '"a b",x', "c,y"])
    write_lines("r.tsv", ["text\tlabel", "a b\tx", "c\ty"])
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "r.parquet")
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "hf"))
    for name in ("r.jsonl", "r.json", "r.csv", "r.tsv", "r.parquet", "hf"):
        assert read_records(tmp_path / name).to_list() == rows, name


def test_tsv_keeps_quotes_as_text(write_lines):
    path = write_lines("q.tsv", ["s\tl", 'He said "no" twice\t0'])
    assert read_records(path)[0]["s"] == 'He said "no" twice'


def test_jsonl_lines_are_tracked_across_blank_lines(write_lines):
    path = write_lines("a.jsonl", ['{"x": "1"}', "", '{"x": "2"}'])
    table = read_table(path)
    assert table.line_of(1) == 3


def test_malformed_jsonl_names_file_and_line(write_lines):
    path = write_lines("bad.jsonl", ['{"x": "1"}', '{"x": "2",}'])
    with pytest.raises(InputError) as err:
        read_records(path)
    assert err.value.line == 2 and "bad.jsonl, line 2" in str(err.value)
    assert "malformed JSON" in str(err.value)


def test_jsonl_line_that_is_not_an_object(write_lines):
    path = write_lines("arr.jsonl", ['{"x": "1"}', "[1, 2]"])
    with pytest.raises(InputError, match=r"line 2: expected a JSON object, got list"):
        read_records(path)


def test_wrong_type_names_line_and_field(write_lines):
    path = write_lines("t.jsonl", ['{"x": "1"}', '{"x": "2"}', '{"x": 3}'])
    with pytest.raises(InputError) as err:
        read_records(path)
    assert (err.value.line, err.value.field) == (3, "x")
    assert "expected string (as on line 1), got number 3" in str(err.value)


def test_undecodable_bytes_name_the_line(tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes(b'{"x": "ok"}\n{"x": "caf\xe9"}\n')
    with pytest.raises(InputError) as err:
        read_records(path)
    assert err.value.line == 2 and "expected UTF-8" in str(err.value)


def test_csv_row_with_wrong_field_count(write_lines):
    path = write_lines("c.csv", ["a,b", "1,2", "3"])
    with pytest.raises(InputError, match=r"c.csv, line 3: expected 2 fields"):
        read_records(path)


def test_json_list_reports_rows(write_lines):
    path = write_lines("l.json", json.dumps([{"x": "a"}, 5]))
    with pytest.raises(InputError, match=r"row 1: expected a JSON object, got number"):
        read_records(path)


def test_unknown_suffix_and_missing_file(tmp_path):
    (tmp_path / "data.xyz").write_text("x")
    with pytest.raises(InputError, match="cannot tell the format"):
        read_records(tmp_path / "data.xyz")
    with pytest.raises(InputError, match="no such file"):
        read_records(tmp_path / "absent.jsonl")


def test_require_columns_missing_column(write_lines):
    table = read_table(write_lines("m.jsonl", ['{"text": "a"}']))
    with pytest.raises(InputError) as err:
        require_columns(table, {"text": "string", "label": "any"})
    assert err.value.field == "label" and "missing column" in str(err.value)


def test_require_columns_empty_required_string(write_lines):
    table = read_table(write_lines("e.jsonl", ['{"text": "a"}', '{"text": "  "}']))
    with pytest.raises(InputError) as err:
        require_columns(table, {"text": "string"}, nonempty=["text"])
    assert (err.value.line, err.value.field) == (2, "text")
    assert "non-empty string" in str(err.value)


def test_require_columns_null_and_messages(write_lines):
    table = read_table(write_lines("n.jsonl", ['{"text": "a"}', '{"text": null}']))
    with pytest.raises(InputError, match="line 2, field 'text': expected a string, got null"):
        require_columns(table, {"text": "string"})
    msgs = read_table(write_lines("msg.jsonl", ['{"m": [{"role": "user", "content": "hi"}]}',
                                                '{"m": [{"role": "user"}]}']))
    with pytest.raises(InputError, match="line 2, field 'm': expected a list of"):
        require_columns(msgs, {"m": "messages"})


def _parts(folder, *tables):
    folder.mkdir(parents=True)
    for i, rows in enumerate(tables):
        pq.write_table(pa.Table.from_pylist(rows), folder / f"part-{i:05d}.parquet")
    return folder


def test_a_folder_of_parquet_parts_reads_as_one_table(tmp_path):
    folder = _parts(tmp_path / "kept", [{"x": "a"}, {"x": "b"}], [{"x": "c"}])
    table = read_table(folder)
    assert table.format == "parquet" and table.path == folder
    assert table.dataset["x"] == ["a", "b", "c"]


def test_parquet_parts_with_other_columns_name_the_part(tmp_path):
    folder = _parts(tmp_path / "kept", [{"x": "a"}], [{"y": "b"}])
    with pytest.raises(InputError) as err:
        read_table(folder)
    assert err.value.file == str(folder / "part-00001.parquet")
    assert "columns ['y'] differ from those of part-00000.parquet (['x'])" in str(err.value)


def test_a_folder_without_records_says_what_a_folder_may_be(tmp_path):
    (tmp_path / "run/kept").mkdir(parents=True)
    with pytest.raises(InputError, match=r"a folder of \*\.parquet files .* name its kept/"):
        read_table(tmp_path / "run")


def test_sources_expand_a_run_folder_and_a_parts_folder_to_their_files(tmp_path):
    from pipelines.io import read_sources, source_files

    run = tmp_path / "run"
    _parts(run / "kept", [{"x": "a"}], [{"x": "b"}])
    _parts(tmp_path / "best_of_n", [{"x": "c"}])
    files = source_files([run, run / "kept", tmp_path / "best_of_n"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "run/kept/part-00000.parquet", "run/kept/part-00001.parquet",
        "run/kept/part-00000.parquet", "run/kept/part-00001.parquet",
        "best_of_n/part-00000.parquet"]
    assert read_sources([run / "kept", tmp_path / "best_of_n"])["x"] == ["a", "b", "c"]
