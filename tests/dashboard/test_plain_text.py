"""Typed text shown through Streamlit's markdown reads as typed: no link, image or emphasis."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from dashboard.plain_text import md_literal

HOSTILE = "[click](javascript:alert(1)) ![x](http://127.0.0.1:9/n.png) **star** :red[x] <b>"


def test_markdown_renders_the_characters_typed() -> None:
    html = MarkdownIt("commonmark").render(md_literal(HOSTILE))
    assert not re.search(r"<(a|img|strong|em|b)\b", html)
    text = re.sub(r"<[^>]+>", "", html).strip()
    assert text == HOSTILE.replace("<", "&lt;").replace(">", "&gt;")


def test_bangla_and_digits_pass_unchanged() -> None:
    assert md_literal("রহিমা খাতুন ০১৭") == "রহিমা খাতুন ০১৭"
