"""The user guide in docs/: every screen has its page, every page is reachable from the contents, and every link
and picture resolves, so F1 never opens a page that is missing or shows a broken image."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desktop import paths
from desktop.models.kpi.return_import import CODES
from desktop.views.shell.help_window import INDEX, SCREEN_PAGES, contents
from desktop.views.shell.screens import SCREENS

DOCS = paths.docs_dir()
# docs/architecture.md is for developers: not a page of the guide, never in the app's contents.
DEVELOPER_PAGES = {"architecture.md"}
PAGES = sorted(p for p in DOCS.glob("*.md") if p.name not in DEVELOPER_PAGES)
LINK = re.compile(r"(!?)\[[^\]]*\]\(([^)\s]+)\)")


def _links(page: Path) -> list[tuple[bool, str]]:
    return [(bang == "!", target) for bang, target in LINK.findall(page.read_text(encoding="utf-8"))]


def test_the_guide_is_where_the_app_looks_for_it():
    assert (DOCS / INDEX).is_file()
    assert len(PAGES) >= 15


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_and_picture_of_a_page_resolves(page):
    for is_image, target in _links(page):
        if target.startswith(("http://", "https://")):
            continue
        assert "#" not in target, f"{page.name}: {target}: the help window follows page links, not anchors"
        resolved = (page.parent / target).resolve()
        assert resolved.is_file(), f"{page.name} links to {target}, which is not in docs/"
        assert resolved.is_relative_to(DOCS.resolve())
        assert resolved.suffix == (".png" if is_image else ".md"), f"{page.name}: {target}"


def test_every_page_is_in_the_contents_and_every_entry_is_a_page():
    listed = [name for _, name in contents(DOCS)]
    assert sorted(listed) == sorted(p.name for p in PAGES)
    assert DEVELOPER_PAGES.isdisjoint(listed)
    assert len(listed) == len(set(listed))


def test_every_picture_in_docs_images_is_shown_by_some_page():
    # make screenshots refreshes exactly the pictures the pages link to; anything else would go stale unseen.
    shown = {(page.parent / target).resolve() for page in PAGES for is_image, target in _links(page) if is_image}
    on_disk = {p.resolve() for p in (DOCS / "images").iterdir()}
    assert on_disk == shown


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: s.key)
def test_every_screen_of_the_navigation_is_explained_on_the_page_f1_opens(screen):
    page = DOCS / SCREEN_PAGES[screen.key]
    text = page.read_text(encoding="utf-8")
    title = re.escape(screen.title)
    # Named as a heading of its own, or in bold where the page introduces it.
    assert re.search(rf"^#+ .*\b{title}\b|\*\*{title}\*\*", text, re.MULTILINE), (
        f"{page.name} does not introduce the {screen.title} screen"
    )


def test_every_rejection_code_a_commissioner_may_see_is_explained():
    text = (DOCS / "commissioner.md").read_text(encoding="utf-8")
    missing = [code for code in CODES if f"| {code} |" not in text]
    assert not missing


def test_pages_are_plain_words_for_users_not_developer_notes():
    # The guide is for clinicians and managers: no code paths or Python names in it.
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"desktop/|\.py\b|sqlite_utils|PySide", text), page.name
