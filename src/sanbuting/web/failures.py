"""Answers to requests the application could not serve, outside a route's own errors: a server
error (500, an unhandled exception) and a body too large (413). Programs get a problem (RFC
9457) — the API under `/api/` and the payment provider's notification address; people get the
error page in their language, or a plain page if even that cannot be drawn. Nothing of the
exception is shown."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from sanbuting.web.i18n import language, register, translator
from sanbuting.web.pages import render
from sanbuting.web.problems import problem

PROGRAM_PATHS = ("/api/", "/sandbox-pay/notify")

register(
    {
        "error.server": (
            "服务器出错了，请稍后再试。如果一直这样，请联系客服。",
            "The server failed: please try again later, and contact us if it keeps happening.",
        ),
        "error.too_large": (
            "提交的内容太大（上限 {limit}），请减小后再试。",
            "What you sent is too large (at most {limit}): send less and try again.",
        ),
    }
)

PLAIN_SERVER_ERROR = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>服务器出错了</title>'
    "</head><body><h1>服务器出错了，请稍后再试</h1>"
    '<p>The server failed: please try again later.</p><p><a href="/">首页 Home</a></p>'
    "</body></html>"
)


def for_programs(path: str) -> bool:
    """Whether the answers at `path` are read by programs (problems), not people (pages)."""
    return path.startswith(PROGRAM_PATHS)


def server_error(request: Request) -> Response:
    """The answer to a request whose handling raised an unexpected exception."""
    if for_programs(request.url.path):
        return problem(
            500, "Server error", "the server failed: try again later (服务器出错了，请稍后再试)"
        )
    try:
        detail = translator(language(request))("error.server")
        return error_page(request, 500, detail)
    except Exception:  # the page itself failed: a fixed one
        return HTMLResponse(PLAIN_SERVER_ERROR, status_code=500)


def too_large(request: Request, limit: int) -> Response:
    """The answer to a request whose body is larger than `limit` bytes."""
    if for_programs(request.url.path):
        detail = f"the request body is larger than {limit} bytes: send a smaller one"
        return problem(413, "Content too large", detail, limit=limit)
    detail = translator(language(request))("error.too_large", limit=size_text(limit))
    return error_page(request, 413, detail)


def size_text(size: int) -> str:
    """A byte count as people read it: 1 MB, 64 KB, 900 B."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} B"


def error_page(request: Request, status: int, detail: str) -> Response:
    """The error page saying `detail`, with a way back (it has no form: no CSRF token)."""
    back = "/console" if request.url.path.startswith("/console") else "/"
    return render(request, "error.html", status_code=status, detail=detail, back=back, csrf="")
