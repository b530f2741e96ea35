from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "apps.sync"
    label = "sync"
    verbose_name = "Edge-hub sync"

    def ready(self):
        from apps.core.models import AuditEvent
        from apps.core.navigation import NavItem, register_nav
        from apps.sync import registry
        from apps.wells.models import Field, Site, Well
        from scada.alarms.models import AlarmJournal

        # Fields are master data an administrator may author on either side; sites and wells are operational
        # records of the edge that runs the site; the audit trail travels up (append-only: inserted, never updated).
        registry.register(Field, registry.BOTH)
        registry.register(Site, registry.UP)
        registry.register(Well, registry.UP)
        registry.register(AuditEvent, registry.UP, append_only=True)
        registry.register(AlarmJournal, registry.UP, append_only=True)  # like the audit trail: never rewritten
        registry.register_declared()
        register_nav(NavItem("Sync", "sync:edges", "sync.edgecredential"))
        try:
            from apps.ops import metrics
        except ImportError:  # the operations app is optional for sync
            return
        from apps.sync.services import publish_metrics

        metrics.register_scrape_hook(publish_metrics)
