from reports.pdf.render import render_pdf

__all__ = ["render_pdf"]
