from django.contrib import admin


class ScopedAdmin(admin.ModelAdmin):
    """Django admin through the permission choke point: staff see only their scope's rows."""

    readonly_fields = ("id", "created_at", "updated_at", "created_by", "updated_by")

    def get_queryset(self, request):
        return self.model.objects.restrict(request.user, "view")
