"""``facetwitch serve``: a local web app for patients (record, upload, diary, reports, consult).

Nothing here is imported by ``import facetwitch``; the server's parts (Starlette, uvicorn)
load only when the app is served. See ``docs/web.md`` for what it does and its security
model. Modules: :mod:`.server` (start it), :mod:`.app` (pages and API), :mod:`.security`
(the guard every request passes), :mod:`.uploads` (streamed multipart), :mod:`.jobs` and
:mod:`.worker` (the analysis queue), :mod:`.pipeline` (every call into the library),
:mod:`.clips` (slowed, motion-magnified event clips).
"""
