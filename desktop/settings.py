"""Every user setting and every piece of remembered UI state, declared once (STYLE practice 11).

Both live in QSettings as plain types (str, int, bool, list of str) in an INI file: settings under
"settings/", UI state (window geometry, splitter, last folder) under "state/". A key that is not
declared here is refused when written, and `unknown_keys()` lists stray ones for a test to catch.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "LocalityDesk"
APPLICATION = "Locality Desk"
MAX_RECENT = 8


@dataclass(frozen=True)
class Option:
    name: str
    type: type
    default: Any
    description: str
    choices: tuple[Any, ...] = field(default=())


SETTINGS: dict[str, Option] = {
    o.name: o
    for o in (
        Option(
            "user_name",
            str,
            "",
            "Your name as the audit trail records it; when empty, your computer login name is used.",
        ),
        Option(
            "recent_workspaces", list, [], f"Workspace files opened most recently, newest first (at most {MAX_RECENT})."
        ),
        Option("last_locality", str, "", "Code of the locality chosen last, chosen again at the next start."),
        Option(
            "backups_keep",
            int,
            10,
            "How many automatic backups (made on close and daily) each workspace keeps, "
            "newest first; 0 switches them off. Back up now and before-restore backups are never deleted.",
        ),
        Option(
            "colour_scheme",
            str,
            "system",
            "Light or dark colours; system follows the desktop's own choice.",
            choices=("system", "light", "dark"),
        ),
        Option("user_role", str, "", "Your role as given on the first start (GP, community matron, commissioner…)."),
        Option(
            "home_locality",
            str,
            "",
            "Code of the team you work in, given on the first start; empty for a commissioner, who compares all 11.",
        ),
        Option(
            "start_workspace",
            str,
            "",
            "The workspace opened at start when no --db is given, chosen on the first "
            "start; empty means workspace.sqlite in the user data folder.",
        ),
        Option("first_run_done", bool, False, "Whether the first-start wizard was finished; it is not shown again."),
    )
}

STATE: dict[str, Option] = {
    o.name: o
    for o in (
        Option("window_geometry", str, "", "Main window position and size (Qt saveGeometry, base64)."),
        Option("splitter", str, "", "Width of the navigation list beside the screens (Qt saveState, base64)."),
        Option("last_screen", str, "", "Key of the screen shown last."),
        Option("last_directory", str, "", "Folder the last Open or New workspace dialog was in."),
        Option("extract_directory", str, "", "Folder the last risk extract was imported from."),
        Option(
            "export_directory",
            str,
            "",
            "Folder the last export was saved to (a cohort worklist, an MDT pack or a "
            "care-home visit report); the next export starts there.",
        ),
        Option(
            "cohort_splitter", str, "", "Width of the patient panel beside the cohort table (Qt saveState, base64)."
        ),
        Option("cohort_columns", str, "", "Widths and order of the cohort table's columns (Qt saveState, base64)."),
        Option(
            "workspace_users",
            list,
            [],
            "Who used each workspace last, newest first: 'path<TAB>name<TAB>role' "
            "per workspace; the start-up question 'Who is using Locality Desk?' is pre-filled from it.",
        ),
        Option(
            "my_work_staff",
            list,
            [],
            "Whose work the My work screen shows when the user's name is not (or not only) on the staff list, "
            "newest first: 'path<TAB>locality id<TAB>user name<TAB>staff id' per workspace and locality.",
        ),
    )
}


def qsettings() -> QSettings:
    """The app's QSettings: an INI file, kept in LOCALITY_DESK_HOME/config when that is set (tests)."""
    home = os.environ.get("LOCALITY_DESK_HOME")
    if home:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(Path(home) / "config"))
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


class Settings:
    """Typed access to the declared settings and UI state; construct once in app.py and pass it in."""

    def __init__(self, store: QSettings | None = None):
        self._store = store if store is not None else qsettings()

    # -- settings ---------------------------------------------------------------------------------------
    def get(self, name: str) -> Any:
        return self._read("settings", SETTINGS[name])

    def set(self, name: str, value: Any) -> None:
        self._write("settings", SETTINGS[name], value)

    def recent_workspaces(self) -> list[Path]:
        return [Path(p) for p in self.get("recent_workspaces")]

    def add_recent(self, path: Path) -> None:
        text = str(Path(path).resolve())
        recent = [p for p in self.get("recent_workspaces") if p != text]
        self.set("recent_workspaces", [text, *recent][:MAX_RECENT])

    def clear_recent(self) -> None:
        self.set("recent_workspaces", [])

    # -- UI state ---------------------------------------------------------------------------------------
    def state(self, name: str) -> Any:
        return self._read("state", STATE[name])

    def set_state(self, name: str, value: Any) -> None:
        self._write("state", STATE[name], value)

    def state_bytes(self, name: str) -> QByteArray | None:
        text = self.state(name)
        if not text:
            return None
        try:
            return QByteArray(base64.b64decode(text, validate=True))
        except ValueError:  # binascii.Error: a hand-edited or damaged value crashed the window at start-up
            return None

    def set_state_bytes(self, name: str, value: QByteArray) -> None:
        self.set_state(name, base64.b64encode(bytes(value.data())).decode("ascii"))

    # -- housekeeping -----------------------------------------------------------------------------------
    def unknown_keys(self) -> list[str]:
        declared = {f"settings/{n}" for n in SETTINGS} | {f"state/{n}" for n in STATE}
        return sorted(k for k in self._store.allKeys() if k not in declared)

    def sync(self) -> None:
        self._store.sync()

    @property
    def file_name(self) -> str:
        return self._store.fileName()

    def _read(self, group: str, option: Option) -> Any:
        raw = self._store.value(f"{group}/{option.name}", None)
        if raw is None:
            return list(option.default) if option.type is list else option.default
        try:
            return _coerce(option.type, raw)
        except (TypeError, ValueError):
            return option.default  # a hand-edited file must not stop the app from starting

    def _write(self, group: str, option: Option, value: Any) -> None:
        if option.type is list:
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise TypeError(f"{option.name} takes a list of strings, not {value!r}")
            value = list(value)
        elif not isinstance(value, option.type) or (option.type is int and isinstance(value, bool)):
            raise TypeError(f"{option.name} takes {option.type.__name__}, not {value!r}")
        self._store.setValue(f"{group}/{option.name}", value)


def _coerce(kind: type, raw: Any) -> Any:
    # The INI format hands back strings, and a one-item list as a bare string.
    # Anything else (a list for a text option, @ByteArray or @Rect(...) values of a hand-edited file) is a
    # wrong type: it became text such as "['1', '2']" or "PySide6.QtCore.QRect(...)" before; now the default.
    if kind is list:
        if isinstance(raw, str):
            return [raw] if raw else []
        if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
            raise TypeError(f"not a list of text: {raw!r}")
        return list(raw)
    if kind is bool:
        return raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1", "yes")
    if kind is str and not isinstance(raw, str):
        raise TypeError(f"not text: {raw!r}")
    return kind(raw)
