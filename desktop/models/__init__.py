"""Domain and storage: pure Python, never Qt (tests/unit/test_architecture.py enforces it)."""

import contextlib
import dis
import os
import sys

# pandas is not used by the domain, yet two libraries it uses import it, each costing ~0.2-0.45 s and ~30 MB at
# the start of every import-risk (issue 22: the import's budget is counted from process start):
#
# - sqlite-utils imports pandas at its own import whenever pandas is installed (sqlite_utils/db.py:
#   `pd = importlib.import_module("pandas")`), only to store a pd.Timestamp as TEXT, which this app never hands
#   it. So sqlite-utils is imported here, once, with pandas hidden from it.
# - pyarrow's C++ imports pandas the first time it converts a Python value (pa.array, pa.scalar, a compute call
#   given "" or a list), to recognise pandas' missing-value objects, which only exist once pandas is imported.
#   _ArrowWithoutPandas refuses that one implicit import; pyarrow then converts as it would without pandas.
#
# Neither stops anyone importing pandas: an `import pandas` statement or importlib.import_module("pandas")
# (the demo extract writer, the benchmarks, pd.read_csv(engine="pyarrow")) imports it as usual, and once it is
# loaded pyarrow uses it as before.


class _PandasHidden:
    """A finder that says pandas is not installed (while it sits on sys.meta_path)."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("pandas is hidden here", name=name)
        return None


@contextlib.contextmanager
def _pandas_hidden():
    finder = _PandasHidden()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


if "sqlite_utils" not in sys.modules and "pandas" not in sys.modules:
    with _pandas_hidden():
        import sqlite_utils  # noqa: F401


_OURS = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,)  # the desktop package


class _ArrowWithoutPandas:
    """Refuses `pandas` to pyarrow's implicit import only: an import made from C while one of our functions (or
    pyarrow's Python wrappers) is calling into pyarrow, which shows as the innermost Python frame being in the
    middle of a call rather than of an import statement. Anything else finds pandas as usual (the finder only
    ever says "not found" in that one case, so when in doubt pandas is imported, as it was before)."""

    def find_spec(self, name, path=None, target=None):
        if name != "pandas" or "pandas" in sys.modules:
            return None
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
            frame = frame.f_back
        if frame is None or not frame.f_code.co_filename.startswith(_ARROW_CALLERS):
            return None
        try:
            op = dis.opname[frame.f_code.co_code[frame.f_lasti]]
        except (IndexError, AttributeError):
            return None
        if op.startswith(("CALL", "PRECALL")):
            raise ModuleNotFoundError("pandas is not needed by pyarrow here", name=name)
        return None


def _arrow_callers() -> tuple[str, ...]:
    spec = __import__("importlib.util").util.find_spec("pyarrow")
    where = os.path.dirname(spec.origin) + os.sep if spec and spec.origin else None
    return (*_OURS, where) if where else _OURS


_ARROW_CALLERS = _arrow_callers()
if "pandas" not in sys.modules and not any(isinstance(f, _ArrowWithoutPandas) for f in sys.meta_path):
    sys.meta_path.insert(0, _ArrowWithoutPandas())
