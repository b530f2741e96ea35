from django.apps import AppConfig


class HrConfig(AppConfig):
    name = "apps.hr"
    label = "hr"
    verbose_name = "People: employees, crews, certificates, timesheets"

    def ready(self):
        from apps.core.navigation import NavItem, register_nav

        register_nav(NavItem("Employees", "hr:employee-list", "hr.employee"))
        register_nav(NavItem("Certificates", "hr:certificate-list", "hr.certificate"))
        register_nav(NavItem("Crews", "hr:crew-list", "hr.crew"))
        register_nav(NavItem("POB", "hr:pob", "hr.crewassignment"))
        register_nav(NavItem("Timesheets", "hr:timesheet-list", "hr.timesheet"))
