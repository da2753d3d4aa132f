"""Rendering of the HR pages: templates with the viewer's words, number formats, the CSRF
token and the security headers; the error pages; download headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from recommender.web import auth
from recommender.web.i18n import language, text

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))

#: Headers of every HTML page: no framing, no sniffing, no inline script, nothing cached.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def page_lang(request: Request) -> str:
    """The pages' language from the language cookie ("id" by default)."""
    return language(request.cookies.get(auth.LANG_COOKIE))


def fmt_number(value: Any, lang: str, digits: int = 0) -> str:
    """1234567.5 -> "1.234.568" (id) or "1,234,568" (en); None -> "—"."""
    if value is None:
        return "—"
    s = f"{float(value):,.{digits}f}"
    if lang == "id":
        s = s.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return s


def fmt_pct(value: Any, lang: str) -> str:
    """0.123 -> "12,3 %" (id); None -> "—"."""
    return "—" if value is None else fmt_number(100 * float(value), lang, 1) + " %"


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    viewer: auth.Viewer | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page with the words of the viewer's language, the CSRF token and the security
    headers."""
    lang = page_lang(request)

    def t(key: str, **values: object) -> str:
        return text(lang, key, **values)

    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if status_code >= 400:  # an error page links back home, not to what was refused
        here = "/"
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "lang": lang,
            "other_lang": "en" if lang == "id" else "id",
            "here": quote(here, safe="/"),
            "viewer": viewer,
            "csrf": viewer.csrf if viewer else "",
            "num": lambda v, d=0: fmt_number(v, lang, d),
            "pct": lambda v: fmt_pct(v, lang),
            **context,
        },
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(*, request: Request, key: str, status_code: int) -> HTMLResponse:
    """The error page saying the words ``key`` of the viewer's language."""
    message = text(page_lang(request), key)
    return render(request, "error.html", {"message": message}, status_code=status_code)


def invalid_page(request: Request, exc: RequestValidationError) -> HTMLResponse:
    """A page's query or form failed validation: 422 with the field names (never the values)."""
    fields = sorted({str(e.get("loc", ("", "?"))[-1]) for e in exc.errors()})
    message = text(page_lang(request), "error_input", fields=", ".join(fields))
    return render(request, "error.html", {"message": message}, status_code=422)


def unavailable_page(request: Request, retry_after: int) -> HTMLResponse:
    """The application database cannot be reached: 503 with ``Retry-After``."""
    response = error_page(request=request, key="unavailable", status_code=503)
    response.headers["Retry-After"] = str(retry_after)
    return response


def download_headers(filename: str) -> dict[str, str]:
    """Headers of a file download named ``filename`` (unsafe characters replaced by ``_``)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in filename)
    return {
        "Content-Disposition": f'attachment; filename="{safe}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
