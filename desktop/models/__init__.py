"""Domain and storage: pure Python, never Qt (tests/unit/test_architecture.py enforces it)."""

import contextlib
import dis
import os
import sys

# pandas is not used by the app (it is a test and benchmark dependency), yet two libraries it uses import it
# when it is installed, each costing ~0.2-0.45 s and ~30 MB at
# the start of every import-risk (issue 22: the import's budget is counted from process start):
#
# - sqlite-utils imports pandas at its own import whenever pandas is installed (sqlite_utils/db.py:
#   `pd = importlib.import_module("pandas")`), only to store a pd.Timestamp as TEXT, which this app never hands
#   it. So sqlite-utils is imported here, once, with pandas hidden from it. It imports numpy the same way
#   (~0.2 s of every start, issue 26), only to map numpy's scalar types to column types when it creates a table
#   from records holding them: numpy is hidden too, and _NumpyAwareTypes maps those types when it meets them.
# - pyarrow's C++ imports pandas the first time it converts a Python value (pa.array, pa.scalar, a compute call
#   given "" or a list), to recognise pandas' missing-value objects, which only exist once pandas is imported.
#   _ArrowWithoutPandas refuses that one implicit import; pyarrow then converts as it would without pandas.
#
# Neither stops anyone importing pandas: an `import pandas` statement or importlib.import_module("pandas")
# (the tests, the benchmarks' pd.read_csv(engine="pyarrow") floor) imports it as usual, and once it is
# loaded pyarrow uses it as before.


_HIDDEN = ("pandas", "numpy")


class _Hidden:
    """A finder that says pandas and numpy are not installed (while it sits on sys.meta_path)."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"{name} is hidden here", name=name)
        return None


@contextlib.contextmanager
def _hidden(names: tuple[str, ...]):
    finder = _Hidden(names)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


class _NumpyAwareTypes(dict):
    """sqlite-utils' COLUMN_TYPE_MAPPING, also knowing numpy's integer and floating scalar types, as it does when it
    imports numpy itself: a type it lacks is looked up here (by key or by .get) and remembered."""

    def __missing__(self, key):
        kind = _numpy_column_type(key)
        if kind is None:
            raise KeyError(key)
        self[key] = kind
        return kind

    def get(self, key, default=None):
        return self[key] if key in self or _numpy_column_type(key) else default


def _numpy_column_type(key) -> str | None:
    np = sys.modules.get("numpy")  # a numpy scalar can only exist once numpy is imported
    if np is None or not isinstance(key, type):
        return None
    if issubclass(key, np.integer):
        return "INTEGER"
    if issubclass(key, np.floating):
        return "REAL"
    return None


def _import_sqlite_utils() -> None:
    hidden = tuple(name for name in _HIDDEN if name not in sys.modules)
    with _hidden(hidden):
        import sqlite_utils.db

    if "numpy" in hidden:
        sqlite_utils.db.COLUMN_TYPE_MAPPING = _NumpyAwareTypes(sqlite_utils.db.COLUMN_TYPE_MAPPING)


if "sqlite_utils" not in sys.modules and "pandas" not in sys.modules:
    _import_sqlite_utils()


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
