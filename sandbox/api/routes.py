"""The API's routes: thin, each parses, calls one function, returns a model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sandbox.api.deps import TOKEN_COOKIE, CallerCity, Runs, SignedInCity
from sandbox.api.errors import ApiError
from sandbox.api.runs import RUN_ID_PATTERN, RunSummary

__all__ = ["router"]

router = APIRouter()
RunId = Annotated[str, PathParam(pattern=RUN_ID_PATTERN, max_length=32)]
NOT_FOUND = "no such run for your city"


@router.get("/api/health")
def health() -> dict[str, str]:
    """Liveness: no authentication, no information."""
    return {"status": "ok"}


@router.get("/api/runs")
def list_runs(city: CallerCity, runs: Runs) -> list[RunSummary]:
    """The caller's city's runs, newest first."""
    return runs.summaries(city=city)


@router.get("/api/runs/{run_id}")
def get_report(run_id: RunId, city: CallerCity, runs: Runs) -> dict[str, Any]:
    """The run's report (report.json): the machine-readable source of truth."""
    report = runs.report(run_id, city=city)
    if report is None:
        raise ApiError(404, NOT_FOUND)
    data: dict[str, Any] = report.model_dump(mode="json")
    if data.get("provenance"):  # host paths are the operator's business, not the caller's
        data["provenance"].pop("trail_path", None)
    return data


@router.get("/api/runs/{run_id}/report.html", response_class=HTMLResponse)
def get_report_html(run_id: RunId, city: CallerCity, runs: Runs) -> HTMLResponse:
    """The run's self-contained HTML report."""
    html = runs.html(run_id, city=city)
    if html is None:
        raise ApiError(404, NOT_FOUND)
    return HTMLResponse(html)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    """A form to paste the city's token; the browser keeps it in an HttpOnly cookie."""
    page = request.app.state.templates.get_template("login.html.j2").render(failed=False)
    return HTMLResponse(page)


@router.post("/login", response_class=HTMLResponse, response_model=None)
async def login(request: Request) -> Response:
    """Check the pasted token; on success set the cookie and go to the dashboard."""
    body = (await request.body())[:4096].decode("utf-8", errors="replace")
    token = (parse_qs(body).get("token") or [""])[0].strip()
    if request.app.state.tenants.city_for(token) is None:
        page = request.app.state.templates.get_template("login.html.j2").render(failed=True)
        return HTMLResponse(page, status_code=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        TOKEN_COOKIE, token, httponly=True, secure=True, samesite="strict", max_age=8 * 3600
    )
    return response


@router.get("/", response_class=HTMLResponse, response_model=None)
def dashboard(request: Request, city: SignedInCity, runs: Runs) -> Response:
    """A page listing the city's runs with their verdicts; the sign-in form when signed out."""
    if city is None:
        return RedirectResponse("/login", status_code=303)
    templates = request.app.state.templates
    page = templates.get_template("dashboard.html.j2").render(
        city=city, runs=runs.summaries(city=city)
    )
    return HTMLResponse(page)


def templates_dir() -> Path:
    """Where the page templates live."""
    return Path(__file__).parent / "templates"
