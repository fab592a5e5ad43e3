"""The hosted dashboard: browser pages over the hosted API's state, one router for the app.

    browser.py      sessions (a token's prefix and hash, checked on every request), CSRF
                    checks of forms, page rendering and refusal pages
    signin.py       GET/POST /login, POST /logout
    job_pages.py    /, /jobs/{id}, POST /jobs/{id}/cancel
    run_pages.py    /runs/{id}, /runs/{id}/report, POST /runs/{id}/sign-off
    results.py      a run's report.json loaded and hash-checked as the register does
    pilot_pages.py  /pilots/{name}, POST /pilots/{name}/phase
    chart.py        the journey page's chart of headline disparities, as SVG geometry
    templates/      the pages (Jinja, autoescaped; the read-only dashboard's stylesheet)

Pages show only what the API would show the same principal (`sandbox.hosted.access`), and
answer another organisation's job, run or pilot with the page of one that does not exist.
"""

from __future__ import annotations

from fastapi import APIRouter

from sandbox.api.hosted import job_pages, pilot_pages, run_pages, signin

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
for _pages in (signin, job_pages, run_pages, pilot_pages):
    router.include_router(_pages.router)
