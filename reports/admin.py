from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from clusters.admin import RegionScopedReadOnly
from reports.models import Plan
from reports.selectors import plan_list


@admin.register(Plan)
class PlanAdmin(RegionScopedReadOnly):
    """Plans are made through the API or `plan_pdf`; here they are listed and their PDFs downloaded."""

    region_path = "run__region"
    list_display = ("id", "run", "municipality", "strategy", "horizon_years", "status", "duration_s", "created_at",
                    "pdf_link")
    list_filter = ("status", "strategy")
    exclude = ("result",)

    def get_queryset(self, request):
        return plan_list(principal=request.user)

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        if obj.status != Plan.Status.DONE or not obj.pdf:
            return "—"
        return format_html('<a href="/api/v1/plans/{}/pdf">{}</a>', obj.pk, _("download"))
