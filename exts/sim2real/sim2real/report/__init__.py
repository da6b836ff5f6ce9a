"""Self-contained HTML reports with their JSON, shared by every stage of sim2real.

A report is a title, a few facts about where it came from, and sections; each section has an id
(its anchor in the page and its key in the JSON) and holds blocks: text, metric tables with an
assessment per row, generic tables, figures (matplotlib, rendered with the Agg backend) and image
grids. Everything is inlined (CSS, PNG images as base64), so the HTML file can be mailed or opened
offline. Next to it, ``report.json`` holds the same numbers for programs.

    from sim2real.report import Report, Metric
    rep = Report("Reality gap: trajectories")
    sec = rep.section("summary", "Summary")
    sec.metrics([Metric("RMSE", 0.03, unit="rad", status="good")])
    sec.figure(fig, caption="Sim vs real")
    rep.write(out_dir)              # out_dir/report.html, out_dir/report.json

Importing this package does not import matplotlib; ``sim2real.report.plots`` does, lazily.
"""

from .builder import Assessment, Metric, Report, Section, Status, grade, json_safe

__all__ = ["Assessment", "Metric", "Report", "Section", "Status", "grade", "json_safe"]
