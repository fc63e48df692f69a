"""The first-start wizard's pages, for tools.screenshots.shoot: a community matron in Charnwood, then the
"Start with" page as a commissioner sees it. Nothing is finished, so nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import platformdirs
from PySide6.QtWidgets import QWidget

from desktop import paths
from desktop.views.shell.first_run import COMMISSIONER, FirstRunWizard


def first_run_pages(shot: Callable[[QWidget, str], None], settle: Callable[[float], None]) -> None:
    # The folder a user would see, not the screenshot run's temporary one.
    wizard = FirstRunWizard(Path(platformdirs.user_data_dir(paths.APP, appauthor=False)) / "workspace.sqlite")
    wizard.show()
    wizard.who.name.setText("Sam Patel")
    wizard.who.role.setCurrentIndex(wizard.who.role.findData("community matron"))
    settle(0.1)
    shot(wizard, "first-run-who")
    wizard.next()
    wizard.where.team.setCurrentIndex(wizard.where.team.findData("CHA"))
    settle(0.1)
    shot(wizard, "first-run-where")
    wizard.next()
    settle(0.1)
    shot(wizard, "first-run-start")
    wizard.next()
    settle(0.1)
    shot(wizard, "first-run-keep")
    wizard.back()
    wizard.back()
    wizard.who.role.setCurrentIndex(wizard.who.role.findData("commissioner"))
    wizard.where.team.setCurrentIndex(wizard.where.team.findData(COMMISSIONER))
    wizard.next()
    settle(0.1)
    shot(wizard, "first-run-start-commissioner")
    wizard.reject()
    wizard.deleteLater()
