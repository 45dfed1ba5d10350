"""Middleware: the allowed networks, and the Content-Security-Policy header.

Django 5.2 has no CSP support of its own (it arrives in 6.0); one header does not need
a dependency. The allowed networks replace the original tool's `.htaccess` rules.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import ip_address

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy: str = settings.PIRANHA_CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class AllowedNetworksMiddleware:
    """Answer 403 to clients outside PIRANHA_ALLOWED_NETWORKS, before anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.networks = settings.PIRANHA_ALLOWED_NETWORKS

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # REMOTE_ADDR only: a forwarded-for header is the client's own claim.
        try:
            client = ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return HttpResponseForbidden("Forbidden: unknown client address.\n")
        if not any(client in network for network in self.networks):
            return HttpResponseForbidden(
                f"Forbidden: {client} is not in PIRANHA_ALLOWED_NETWORKS.\n",
                content_type="text/plain",
            )
        return self.get_response(request)
