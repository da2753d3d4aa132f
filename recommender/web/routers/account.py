"""Sign-in, sign-out and the language switch of the HR pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from recommender.store import users
from recommender.web import auth
from recommender.web.deps import ServiceDep, check_csrf, signed_in
from recommender.web.i18n import LANGUAGES, text
from recommender.web.render import page_lang, render
from recommender.web.signin import SignInResult, sign_in

router = APIRouter(include_in_schema=False)


def _login_form(
    request: Request,
    *,
    secure: bool,
    context: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    """The sign-in form with a fresh double-submit token in its cookie."""
    token = auth.new_login_token()
    response = render(request, "login.html", {**context, "token": token}, status_code=status_code)
    response.set_cookie(
        auth.LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure,
        max_age=3600,
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, service: ServiceDep, next: str = "/") -> HTMLResponse:
    """The sign-in form (returning to ``next``, a local path, after sign-in)."""
    secure = service.settings.env == "production"
    return _login_form(request, secure=secure, context={"next": auth.safe_next(next)})


def _refused(
    request: Request, result: SignInResult, *, secure: bool, target: str, username: str
) -> HTMLResponse:
    """The form again with the reason of a refused sign-in (and ``Retry-After``)."""
    message = text(page_lang(request), result.error, **result.values)
    context = {"next": target, "error": message, "username": username}
    response = _login_form(request, secure=secure, context=context, status_code=result.status)
    if result.retry_after > 0:  # a throttled or locked sign-in: when to try again
        response.headers["Retry-After"] = str(result.retry_after)
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    service: ServiceDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Sign in (:func:`recommender.web.signin.sign_in`): a redirect with the session cookie,
    or the form again saying why not."""
    target, secure = auth.safe_next(next), service.settings.env == "production"
    result = await sign_in(
        store=service.store,
        username=username,
        password=password,
        form_token=csrf_token,
        cookie_token=request.cookies.get(auth.LOGIN_CSRF_COOKIE),
        client=auth.client_of(request),
        previous=request.cookies.get(auth.SESSION_COOKIE),
        by_client=request.app.state.login_throttle,
        by_name=request.app.state.name_throttle,
    )
    if result.session is None:
        return _refused(request, result, secure=secure, target=target, username=username)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        result.session,
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=8 * 3600,
    )
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(
    request: Request,
    service: ServiceDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """End the session and go back to the sign-in form."""
    viewer = signed_in(request=request, service=service)
    check_csrf(viewer=viewer, sent=csrf_token)
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token and service.store is not None:
        with service.store.begin() as session:
            users.end_session(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE)
    return response


@router.get("/language")
def switch_language(lang: str = "id", next: str = "/") -> Response:
    """Remember the pages' language (``id`` or ``en``) and go back to ``next``."""
    response = RedirectResponse(auth.safe_next(next), status_code=303)
    response.set_cookie(
        auth.LANG_COOKIE, lang if lang in LANGUAGES else "id", samesite="lax", max_age=31536000
    )
    return response
