"""The hosted API (FastAPI): cities submit pilots, follow their jobs and manage their tokens.

    app.py          `create_hosted_app(settings)`: the app, its error shape, security headers
                    and body caps; served by `sandbox server serve`
    state.py        `HostedState`: accounts, jobs, the archive store, trail, tracker, queue
    auth.py         `current_principal` / `CurrentPrincipal`: the bearer token's principal
    limits.py       `RouteBodyLimits`: the archive limit for submissions, a small cap elsewhere
    models.py       the response models: `JobOut`, `PreRunOut`, `SubmissionOut`, `TokenOut`,
                    `WhoAmI`
    upload.py       the request body streamed chunk by chunk into `receive_archive`
    admission.py    an uploaded archive unpacked and judged: owner, pre-run policies
    submissions.py  POST /api/v1/submissions: store, check, block or queue
    jobs.py         GET /api/v1/jobs, /jobs/{id}, POST /jobs/{id}/cancel
    archives.py     GET /api/v1/jobs/{id}/archive, for workers
    tokens.py       GET /api/v1/whoami, /tokens, POST /tokens/{id}/revoke and /expire
    reviews.py      sign-offs of runs and phase moves of pilots (docs/hosted.md)
    reviews.py      POST/GET /api/v1/runs/{id}/sign-offs, POST /pilots/{name}/phase,
                    GET /pilots/{name}/journey
    phase_check.py  a submission's pilot.phase checked against the register's
    dashboard.py    the browser pages (sign-in, jobs, runs, reports, journeys); its
                    docstring maps browser.py, signin.py, *_pages.py, results.py, chart.py

Every route answers errors in the one shape of `sandbox.api.errors`. Who may do what is
`sandbox.hosted.access.allowed`; a job of an organisation the caller may not read is a 404
with the same body as a job that does not exist.
"""

from sandbox.api.hosted.app import create_hosted_app

__all__ = ["create_hosted_app"]
