from django.contrib.auth import views as auth_views

from apps.accounts.forms import LockoutAuthenticationForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LockoutAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Sign-out also tells the browser to drop its HTTP cache of this site (``Clear-Site-Data``); the page script
    (static/js/offline/page.js) empties the service worker's page and data caches before posting the form, so the
    next user of a shared tablet never gets this user's cached pages. The offline outbox (unsent work) is kept."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache"'
        return response
