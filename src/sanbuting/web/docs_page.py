"""`/docs`: the API's OpenAPI document in Swagger UI, served from this site only — the vendored
`swagger-ui-dist` (`static/vendor/`, see its README) started by a script file of our own, so
that the page keeps the site's strict Content-Security-Policy (no CDN, no inline script or
style)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

SWAGGER_UI = "/static/vendor/swagger-ui-dist-5.35.0"
START = "/static/docs/start.js"
OPENAPI_URL = "/openapi.json"

PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>sanbuting 三不停 · API</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
  <script src="{SWAGGER_UI}/swagger-ui-bundle.js" defer></script>
  <script src="{START}" defer></script>
</head>
<body>
  <div id="swagger-ui" data-openapi="{OPENAPI_URL}"></div>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs() -> HTMLResponse:
    return HTMLResponse(PAGE)
