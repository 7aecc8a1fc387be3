"""Wagtail's listing table with its body written in Python, for every staff list.

A page of 50 rows through wagtailadmin/tables/table.html is a template include per row and
a component render per cell (400 of them): more time than the page's queries. `PythonTable`
writes the same markup as joined strings; the headers keep Wagtail's own templates (sort
links), and each cell is still its column's `render_cell_html`, so a column with a template
renders as before and the project's Python-built columns (core.admin_lists) stay cheap."""

import html

from django.utils.safestring import mark_safe
from wagtail.admin.ui.tables import Table


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def _attrs(attrs: dict) -> str:
    """HTML attributes as wagtailadmin/shared/attrs.html writes them."""
    return "".join(f" {esc(k)}" if v is True else f' {esc(k)}="{esc(v)}"' for k, v in attrs.items() if v is not False)


class PythonTable(Table):
    """Wagtail's Table with its markup (wagtailadmin/tables/table.html) written in Python:
    the headers keep Wagtail's own templates (sort links), the 50 rows are joined strings
    of the columns' cells, instead of a template include per row and a component per
    cell (400 of them a page)."""

    def render_html(self, parent_context=None):
        context = self.get_context_data(parent_context or {})
        parts = [f"<table{_attrs(self.attrs)}>"]
        caption = self.get_caption()
        if caption:
            parts.append(f'<caption class="w-sr-only">{esc(caption)}</caption>')
        columns = list(self.columns.values())
        if self.has_column_widths():
            parts += [f'<col width="{esc(c.width)}" />' if c.width else "<col />" for c in columns]
        head_class = f' class="{esc(self.header_row_classname)}"' if self.header_row_classname else ""
        parts.append(f"<thead><tr{head_class}>")
        parts += [str(c.render_header_html(context)) for c in columns]
        parts.append("</tr></thead><tbody>")
        for row in self.rows:  # Wagtail's cell templates read the row from the context
            cell_context = {**context, "row": row}
            parts.append(f"<tr{_attrs(row.attrs)}>")
            parts += [str(c.render_cell_html(row.instance, cell_context)) for c in columns]
            parts.append("</tr>")
        parts.append("</tbody></table>")
        return mark_safe("".join(parts))
