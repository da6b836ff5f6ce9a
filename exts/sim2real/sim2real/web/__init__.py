"""The web panel (``sim2real ui``): the same click-through panel as the Kit window, in a browser.

Served by FastAPI with plain HTML and htmx (vendored in ``static/``; nothing is fetched at run time)
over the view-models of ``sim2real.app``, so both UIs share one behaviour. See docs/web.md.
"""
