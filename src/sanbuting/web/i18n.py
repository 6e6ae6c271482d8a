"""Words on screen, zh-CN first and English: each part of the site keeps its own catalogue
(`MESSAGES` dicts registered here); a missing English text falls back to the Chinese, a missing
key shows itself (so it is seen and fixed)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

LANGUAGES = ("zh", "en")
LANG_COOKIE = "sbt_lang"
CATALOGUE: dict[str, dict[str, str]] = {"zh": {}, "en": {}}


def register(messages: dict[str, tuple[str, str]]) -> None:
    """Add `{key: (中文, English)}` to the catalogue."""
    for key, (zh, en) in messages.items():
        CATALOGUE["zh"][key] = zh
        CATALOGUE["en"][key] = en or zh


def language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return asked if asked in LANGUAGES else "zh"


def translator(lang: str) -> Callable[..., str]:
    texts = CATALOGUE[lang]

    def t(key: str, **values: object) -> str:
        text = texts.get(key) or CATALOGUE["zh"].get(key) or key
        return text.format(**values) if values else text

    return t


register(
    {
        "site.name": ("三不停 · 网上营业厅", "sanbuting online service"),
        "lang.switch": ("English", "中文"),
        "nav.home": ("首页", "Home"),
        "nav.signin": ("登录", "Sign in"),
        "nav.signout": ("退出", "Sign out"),
        "error.title": ("出错了", "Something went wrong"),
    }
)
