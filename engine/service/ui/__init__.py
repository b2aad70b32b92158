"""The analyst workbench under `/ui/`: pages over the stored decisions (list, decision, line
drill-down, what-if, dashboard, compare), rendered on the server with the verdicts and
explanations in the HTML; a little JavaScript only adds conveniences. The routes are
`engine/service/routes/ui_pages.py` and `ui_tools.py`; this package holds what they show."""
