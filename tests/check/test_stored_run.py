"""A stored run read back for ``simlive check``: a malformed history or state.json is a
StoredRunError (exit 2) naming the file and the line; a good one round-trips."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from simlive.check.history import read_jsonl, write_jsonl
from simlive.check.state import FinalState
from simlive.check.stored import load_state, read_history
from simlive.errors import EXIT_BAD_INPUT, StoredRunError
from testing.synthetic import clean_run

INVOKE = {"type": "invoke", "process": "u1", "op": 1, "time": 10.0, "f": "order",
          "args": {"sku": "HOT", "quantity": 1}}
OK = {"type": "ok", "process": "u1", "op": 1, "time": 10.5, "f": "order",
      "value": {"order_id": 1}}
STATE = {"ledger": [], "orders": [], "fetched_at": 20.0}


def _line(event: dict) -> str:
    return json.dumps(event, separators=(",", ":"))


def _history(tmp_path: Path, *lines: str, name: str = "history.jsonl", end: str = "\n") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + end, encoding="utf-8")
    return path


def _error(fn, path: Path) -> str:
    with pytest.raises(StoredRunError) as info:
        fn(path)
    assert info.value.exit_code == EXIT_BAD_INPUT
    return str(info.value).replace(str(path.parent) + "/", "")


def _history_error(tmp_path: Path, *lines: str, end: str = "\n") -> str:
    return _error(read_history, _history(tmp_path, *lines, end=end))


def _state_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "state.json"
    path.write_text(text, encoding="utf-8")
    return _error(load_state, path)


# --- history ------------------------------------------------------------------------------


def test_a_line_that_is_not_json_is_named_with_its_line(tmp_path: Path) -> None:
    assert _history_error(tmp_path, _line(INVOKE), "not json", _line(OK)) == (
        "history.jsonl:2: expected a JSON object (an event); found 'not json' "
        "(not JSON: Expecting value, column 1)")


def test_a_json_array_line_is_not_an_event(tmp_path: Path) -> None:
    assert _history_error(tmp_path, _line(INVOKE), "[1, 2]", _line(OK)) == (
        "history.jsonl:2: expected a JSON object (an event); found a JSON array: [1,2]")


def test_bytes_that_are_not_utf8_are_named_with_line_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    first = _line(INVOKE).encode() + b"\n"
    path.write_bytes(first + b'{"type":"ok","f":"\xff"}\n' + _line(OK).encode() + b"\n")
    assert _error(read_history, path) == (
        f"history.jsonl:2: expected UTF-8 text; found byte 0xff at byte offset "
        f"{len(first) + 18}")


def test_a_single_garbage_line_is_not_a_torn_line(tmp_path: Path) -> None:
    assert _history_error(tmp_path, "garbage", end="") == (
        "history.jsonl:1: expected a JSON object (an event); found 'garbage' "
        "(not JSON: Expecting value, column 1)")


def test_a_cut_off_object_with_no_event_before_it_is_an_error(tmp_path: Path) -> None:
    assert _history_error(tmp_path, '{"type":"inv', end="") == (
        "history.jsonl:1: expected a JSON object (an event); found '{\"type\":\"inv' "
        "(not JSON: Unterminated string starting at, column 9; a cut-off last line is "
        "skipped only after a valid event)")


def test_a_last_line_that_does_not_start_like_an_object_is_an_error(tmp_path: Path) -> None:
    assert _history_error(tmp_path, _line(INVOKE), _line(OK), "xx", end="") == (
        "history.jsonl:3: expected a JSON object (an event); found 'xx' "
        "(not JSON: Expecting value, column 1)")


def test_an_empty_history_records_no_operations(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text("", encoding="utf-8")
    assert _error(read_history, path) == (
        "history.jsonl: expected at least one operation (an invoke line); "
        "found no operations recorded")


def test_a_folder_of_empty_files_records_no_operations(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    folder.mkdir()
    for name in ("local-1.jsonl", "setup.jsonl"):
        (folder / name).write_text("\n", encoding="utf-8")
    assert _error(read_history, folder) == (
        "history/ (2 history files): expected at least one operation (an invoke line); "
        "found no operations recorded")


def test_a_folder_without_history_files(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    folder.mkdir()
    assert _error(read_history, folder) == (
        "history: expected a folder holding history files (*.jsonl); found no .jsonl file")


def test_a_torn_last_line_after_valid_events_is_skipped(tmp_path: Path) -> None:
    torn = _line({**INVOKE, "op": 2})[:30]
    path = _history(tmp_path, _line(INVOKE), _line(OK), torn, end="")
    assert read_history(path) == [INVOKE, OK]


def test_a_last_line_cut_inside_a_character_is_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_bytes(f"{_line(INVOKE)}\n{_line(OK)}\n".encode()
                     + '{"type":"ok","value":"€'.encode()[:-1])
    assert read_history(path) == [INVOKE, OK]


@pytest.mark.parametrize(("change", "message"), [
    ({"type": "start"}, 'type: expected one of invoke, ok, fail, info; found "start"'),
    ({"process": 1.5}, "process: expected a string or an integer; found 1.5"),
    ({"process": None}, "process: expected a string or an integer; found null"),
    ({"op": "1"}, 'op: expected an integer; found "1"'),
    ({"time": float("nan")},
     "time: expected a finite number (the client's clock, in seconds); found NaN"),
    ({"time": "10:00"},
     "time: expected a finite number (the client's clock, in seconds); found \"10:00\""),
    ({"f": 3}, "f: expected a string (the function called) on an invoke; found 3"),
    ({"args": [1]}, "args: expected an object (the call's arguments); found [1]"),
])
def test_each_field_of_an_event_is_checked(tmp_path: Path, change: dict,
                                           message: str) -> None:
    assert _history_error(tmp_path, _line(INVOKE), _line({**INVOKE, "op": 2, **change})) \
        == f"history.jsonl:2: {message}"


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    event = {k: v for k, v in INVOKE.items() if k != "process"}
    assert _history_error(tmp_path, _line(event)) == (
        "history.jsonl:1: process: expected a string or an integer; "
        "found nothing (the key is missing)")


def test_a_completion_without_its_invoke(tmp_path: Path) -> None:
    assert _history_error(tmp_path, "", _line(INVOKE), _line(OK), _line(OK)) == (
        'history.jsonl:4: op: expected an invoke of process "u1" op 1 on an earlier line; '
        "found ok without one")


def test_a_completion_before_its_invoke_in_time(tmp_path: Path) -> None:
    assert _history_error(tmp_path, _line(INVOKE), _line({**OK, "time": 9.0})) == (
        "history.jsonl:2: time: expected no earlier than its invoke's 10.0 (line 1); "
        "found 9.0 (did the client's clock go back?)")


def test_blank_lines_crlf_and_whole_second_times_are_read(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_bytes(f"{_line({**INVOKE, 'time': 10})}\r\n\r\n{_line(OK)}\r\n".encode())
    assert read_jsonl(path) == [{**INVOKE, "time": 10}, OK]


def test_a_clean_run_round_trips(tmp_path: Path) -> None:
    events, state = clean_run(random.Random(3))
    write_jsonl(tmp_path / "run.jsonl", events)
    (tmp_path / "state.json").write_text(json.dumps(state.to_dict()), encoding="utf-8")
    assert read_history(tmp_path / "run.jsonl") == events
    assert load_state(tmp_path / "state.json") == state


def test_a_folder_reads_the_per_process_files_not_the_merged_one(tmp_path: Path) -> None:
    events, _ = clean_run(random.Random(4))
    folder = tmp_path / "history"
    folder.mkdir()
    (folder / "history.jsonl").write_text("not even json\n", encoding="utf-8")
    invokes, completions = events[::2], events[1::2]
    write_jsonl(folder / "a.jsonl", [e for pair in zip(invokes[:10], completions[:10],
                                                       strict=True) for e in pair])
    write_jsonl(folder / "b.jsonl", [e for pair in zip(invokes[10:], completions[10:],
                                                       strict=True) for e in pair])
    assert read_history(folder) == events
    (folder / "a.jsonl").unlink()
    (folder / "b.jsonl").unlink()
    write_jsonl(folder / "history.jsonl", events)
    assert read_history(folder) == events


# --- state --------------------------------------------------------------------------------


def test_an_empty_state_object_lacks_the_parts_a_service_reports(tmp_path: Path) -> None:
    assert _state_error(tmp_path, "{}") == "\n".join([
        "state.json: ledger: expected a list of objects (or null: not read); "
        "this key is required; found nothing",
        "state.json: orders: expected a list of objects (or null: not read); "
        "this key is required; found nothing",
        "state.json: fetched_at: expected a number (epoch seconds); this key is required; "
        "found nothing"])


def test_a_state_with_wrong_types(tmp_path: Path) -> None:
    text = json.dumps({"ledger": {"sku": "HOT"}, "orders": [{"id": 1}, 5],
                       "fetched_at": "2024-06-01", "source": "db"})
    assert _state_error(tmp_path, text) == "\n".join([
        'state.json: ledger: expected a list of objects (or null: not read); '
        'found {"sku":"HOT"}',
        "state.json: orders[1]: expected an object; found 5",
        'state.json: fetched_at: expected a number (epoch seconds); found "2024-06-01"',
        'state.json: source: expected one of service, history; found "db"'])


def test_an_unknown_state_key_is_named_with_the_nearest_known_one(tmp_path: Path) -> None:
    text = json.dumps({**STATE, "ordrs": [], "colour": "red"})
    assert _state_error(tmp_path, text) == "\n".join([
        "state.json: ordrs: expected a known key (did you mean 'orders'?); "
        "found unknown key 'ordrs'",
        "state.json: colour: expected a known key (one of ledger, orders, receipts, tickets, "
        "reviews, broadcasts, fetched_at, source); found unknown key 'colour'"])


@pytest.mark.parametrize(("text", "message"), [
    ("[]", "state.json: expected a JSON object (a final state: ledger, orders, fetched_at, "
           "...); found a JSON array"),
    ("", "state.json: expected a JSON object (a final state); found an empty file"),
    ('{"ledger": [],\n "orders": [] "fetched_at": 1}',
     "state.json:2: expected JSON; found a syntax error (Expecting ',' delimiter, "
     "column 15)"),
])
def test_a_state_file_that_is_not_a_json_object(tmp_path: Path, text: str,
                                                message: str) -> None:
    assert _state_error(tmp_path, text) == message


def test_a_state_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b'{"ledger": [],\n"orders": ["\xe9"]}')
    assert _error(load_state, path) == (
        "state.json:2: expected UTF-8 text; found byte 0xe9 at byte offset 27")


def test_parts_left_out_are_not_read_and_source_is_kept(tmp_path: Path) -> None:
    """A part left out of a stored state was not read: its rules say unknown rather than
    judge an empty shop."""
    path = tmp_path / "state.json"
    path.write_text(json.dumps({**STATE, "fetched_at": 20, "source": "history",
                                "tickets": None, "reviews": []}), encoding="utf-8")
    assert load_state(path) == FinalState(ledger=[], orders=[], receipts=None, tickets=None,
                                          reviews=[], broadcasts=None, fetched_at=20.0,
                                          source="history")


def test_a_history_only_state_round_trips(tmp_path: Path) -> None:
    state = FinalState.from_history_only()
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state.to_dict()), encoding="utf-8")
    assert load_state(path) == state


def test_a_missing_state_file(tmp_path: Path) -> None:
    assert _error(load_state, tmp_path / "state.json") == (
        "state.json: expected a readable file; found no such file")
