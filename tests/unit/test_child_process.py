"""Work run in a child process (sync's apsw must not share the app's process): results, errors, cancel, crash."""

from __future__ import annotations

import math
import os
import time

import pytest

from desktop.models import child_process
from desktop.models.errors import StorageError, ValidationError
from desktop.models.progress import Cancelled
from desktop.models.sync import bundle as sync_bundle


def test_the_result_comes_back():
    assert child_process.call(math.comb, 11, 3) == 165


def test_a_refusal_arrives_as_the_same_error_with_its_message(tmp_path):
    missing = tmp_path / "nowhere.ldsync"
    with pytest.raises(ValidationError) as in_process:
        sync_bundle.read_header(missing)
    with pytest.raises(ValidationError) as from_child:
        child_process.call(sync_bundle.read_header, missing)
    assert str(from_child.value) == str(in_process.value)


def test_cancel_stops_the_child_at_once():
    started = time.monotonic()
    with pytest.raises(Cancelled):
        child_process.call(time.sleep, 60, cancel=lambda: time.monotonic() - started > 0.5)
    assert time.monotonic() - started < 30  # killed, not waited for: the sleep was a minute


def test_a_child_that_dies_is_reported_in_plain_words():
    with pytest.raises(StorageError, match="stopped unexpectedly"):
        child_process.call(os._exit, 3)
