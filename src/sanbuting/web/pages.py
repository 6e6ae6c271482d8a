"""Rendering the server-side pages: Jinja2 templates with the caller's language, the words of
the catalogue, the CSRF token for forms (the signed-in session's own, else the CSRF cookie's),
who is signed in, and whether the site runs in demo mode (the pages then say so)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from sanbuting.domain import format_yuan, mask_phone
from sanbuting.web.i18n import LANG_COOKIE, language, translator
from sanbuting.web.security import CSRF_FIELD, form_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.filters["yuan"] = format_yuan
TEMPLATES.env.filters["masked"] = mask_phone


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page `template` for `request` (`csrf` given skips finding the caller's token)."""
    lang = language(request)
    values: dict[str, Any] = {
        "t": translator(lang),
        "lang": lang,
        "other_lang": "en" if lang == "zh" else "zh",
        "csrf_field": CSRF_FIELD,
        "demo": _demo(request),
        **context,
    }
    if "csrf" not in values:
        values["csrf"] = form_token(request)
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, samesite="lax")
    return response


def _demo(request: Request) -> bool:
    settings = getattr(request.app.state, "settings", None)
    return bool(getattr(settings, "demo", False))
