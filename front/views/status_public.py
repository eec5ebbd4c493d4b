"""Public status pages: the HTML page, its JSON, its stylesheet, component badges (SVG) and the
subscriber links, under ``/status/<slug>/`` or at the root of the page's custom domain.

Anyone may read a published page (an unpublished one is 404 like an absent one), so pages
are found by their slug or host name rather than through a user's scope; what they show is
limited to the page's own components (``incidents.statuspage``). Every response carries a
strict Content-Security-Policy: the page runs no script at all, styles come only from the
page's own stylesheet, and every text a tenant typed is escaped by the templates.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from incidents import statuspage, statuspage_feeds, statuspage_mail
from incidents.models import StatusComponent, StatusPage
from incidents.models.statuspage import DEFAULT_ACCENT, validate_accent_color
from incidents.statuspage_links import Links, as_public_json
from sitecare.lib.client_address import client_address

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data: https:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# JSON, SVG and CSS are never documents that may load anything.
RESOURCE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
BADGE_LABEL_MAX = 40

View = Callable[..., HttpResponse]


def secure(response: HttpResponse, *, csp: str = PAGE_CSP, cache_seconds: int = 0) -> HttpResponse:
    """Add the status pages' security and caching headers to a response."""
    response["Content-Security-Policy"] = csp
    response["X-Content-Type-Options"] = "nosniff"
    # Confirm and unsubscribe links carry tokens: never hand them on as a referrer.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Frame-Options"] = "DENY"
    response["Cross-Origin-Opener-Policy"] = "same-origin"
    response["Cache-Control"] = f"public, max-age={cache_seconds}" if cache_seconds else "no-store"
    return response


def not_found(request: HttpRequest) -> HttpResponse:
    """The one 404 of status pages (absent, unpublished, foreign and malformed alike)."""
    context = {"heading": _("Page not found"), "text": _("There is no status page here.")}
    return secure(render(request, "status/message.html", context, status=404))


def public_view(view: View) -> View:
    """Wrap a public view: no CSRF (no session is used), its language, 404s, headers.

    On a custom domain Django's middleware did not run, so the language is chosen here from
    the request (cookie, then Accept-Language) as LocaleMiddleware would.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        on_custom_domain = getattr(request, "status_page_id", None) is not None
        language = (
            translation.get_language_from_request(request)
            if on_custom_domain
            else translation.get_language() or settings.LANGUAGE_CODE
        )
        with translation.override(language):
            try:
                response = view(request, *args, **kwargs)
            except Http404:
                response = not_found(request)
            response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ["Accept-Language"])
        if "Content-Security-Policy" not in response:
            secure(response)
        return response

    return csrf_exempt(wrapped)


def load_page(request: HttpRequest, slug: str | None) -> tuple[StatusPage, Links]:
    """The published page asked for, by custom domain or by slug; Http404 otherwise."""
    pages = StatusPage.objects.filter(published=True).select_related("client__organization")
    page_id = getattr(request, "status_page_id", None)
    page = (
        pages.filter(pk=page_id).first() if page_id is not None else pages.filter(slug=slug).first()
    )
    if page is None:
        raise Http404("not found")
    return page, Links.for_page(page, on_custom_domain=page_id is not None)


def accent_of(page: StatusPage) -> str:
    """The page's accent colour, checked once more before it is written into CSS."""
    try:
        validate_accent_color(page.accent_color)
    except ValidationError:
        return DEFAULT_ACCENT
    return page.accent_color


def _page_response(
    request: HttpRequest, page: StatusPage, links: Links, *, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "page": page,
        "links": links,
        "summary": statuspage.summarize_page(page),
        "css_version": accent_of(page).lstrip("#"),
        "logo_url": page.logo_url if page.logo_url.startswith("https://") else "",
        **extra,
    }
    response = render(request, "status/page.html", context, status=status)
    return secure(response, cache_seconds=30 if status == 200 else 0)


@public_view
def page_html(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return secure(HttpResponse(status=405, headers={"Allow": "GET, HEAD"}))
    page, links = load_page(request, slug)
    return _page_response(request, page, links)


@public_view
def page_json(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    page, links = load_page(request, slug)
    body = as_public_json(statuspage.summarize_page(page), links)
    response = JsonResponse(body)
    response["Access-Control-Allow-Origin"] = "*"
    return secure(response, csp=RESOURCE_CSP, cache_seconds=30)


def absolute_url(request: HttpRequest, page: StatusPage) -> Callable[[str], str]:
    """Makes a page's path absolute: on its custom domain when asked there, else under the
    configured base URL (the Host header is never echoed into a feed)."""
    if getattr(request, "status_page_id", None) is not None and page.custom_domain:
        base = f"{request.scheme}://{page.custom_domain}"
    else:
        base = str(settings.SITECARE_BASE_URL).rstrip("/")
    return lambda path: base + path


@public_view
def page_atom(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """The page's incidents and their public updates as an Atom feed."""
    page, links = load_page(request, slug)
    content = statuspage_feeds.feed_content(page, timezone.now())
    url = absolute_url(request, page)
    body = statuspage_feeds.atom_feed(content, url(links.page), url(links.atom))
    response = HttpResponse(body, content_type=statuspage_feeds.ATOM_CONTENT_TYPE)
    response["Access-Control-Allow-Origin"] = "*"
    return secure(response, csp=RESOURCE_CSP, cache_seconds=60)


@public_view
def page_ical(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """The page's running and coming maintenance as an iCalendar feed."""
    page, links = load_page(request, slug)
    content = statuspage_feeds.feed_content(page, timezone.now())
    body = statuspage_feeds.maintenance_calendar(content, absolute_url(request, page)(links.page))
    response = HttpResponse(body, content_type=statuspage_feeds.ICAL_CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{page.slug}-maintenance.ics"'
    return secure(response, csp=RESOURCE_CSP, cache_seconds=300)


@public_view
def page_css(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    page, _links = load_page(request, slug)
    css = render_to_string("status/style.css", {"accent": accent_of(page)})
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    return secure(response, csp=RESOURCE_CSP, cache_seconds=300)


@public_view
def badge_svg(request: HttpRequest, component_id: int, slug: str | None = None) -> HttpResponse:
    """The component's 30-day uptime as a small SVG badge; its name is escaped text."""
    page, _links = load_page(request, slug)
    component = (
        StatusComponent.objects.select_related("monitor__site", "page")
        .filter(page=page, pk=component_id)
        .first()
    )
    if component is None:
        raise Http404("not found")
    percent = statuspage.component_badge_uptime(component)
    response = HttpResponse(
        render_to_string("status/badge.svg", badge_context(component.name, percent)),
        content_type="image/svg+xml; charset=utf-8",
    )
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return secure(response, csp=RESOURCE_CSP, cache_seconds=300)


def badge_context(name: str, percent: float | None) -> dict[str, Any]:
    """Texts, widths and colour of a badge (widths estimated from the text's length)."""
    label = name if len(name) <= BADGE_LABEL_MAX else name[: BADGE_LABEL_MAX - 1] + "…"
    value = _("no data") if percent is None else f"{percent:.2f}%"
    if percent is None:
        colour = "#9ca3af"
    elif percent >= 99.9:
        colour = "#16a34a"
    elif percent >= 99.0:
        colour = "#ca8a04"
    else:
        colour = "#dc2626"
    label_width = 10 + round(6.5 * len(label))
    value_width = 10 + round(6.5 * len(value))
    return {
        "label": label,
        "value": value,
        "colour": colour,
        "label_width": label_width,
        "value_width": value_width,
        "width": label_width + value_width,
        # Whole numbers: a localized float ("55,5") would break the SVG's coordinates.
        "label_x": label_width // 2,
        "value_x": label_width + value_width // 2,
    }


@public_view
def subscribe(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Subscribe form: the same answer whether the address was new, pending or confirmed."""
    page, links = load_page(request, slug)
    if not page.allow_subscriptions:
        raise Http404("not found")
    if request.method != "POST":
        return secure(HttpResponse(status=405, headers={"Allow": "POST"}))
    if not statuspage_mail.allow_subscribe_attempt(page, client_address(request)):
        return _message(
            request,
            page,
            links,
            _("Too many attempts"),
            _("Please try again in a quarter of an hour."),
            status=429,
        )
    email = str(request.POST.get("email", ""))
    try:
        statuspage_mail.subscribe(page, email, timezone.now())
    except ValidationError as exc:
        errors = exc.message_dict.get("email", exc.messages)
        return _page_response(
            request, page, links, status=400, subscribe_error=" ".join(errors), email=email[:254]
        )
    return _message(
        request,
        page,
        links,
        _("Check your inbox"),
        _(
            "If the address is not subscribed yet, we have sent it a link to confirm. "
            "Nothing is sent to it until then."
        ),
    )


@public_view
def confirm(request: HttpRequest, token: str, slug: str | None = None) -> HttpResponse:
    """Opening the link (GET) only asks; the button (POST) confirms, so a mail scanner that
    follows every link cannot subscribe an address for someone else."""
    page, links = load_page(request, slug)
    if request.method != "POST":
        if statuspage_mail.confirm_subscriber(page, token) is None:
            return _expired_confirm_link(request, page, links)
        return _message(
            request,
            page,
            links,
            _("Confirm your subscription"),
            _("You will get an email when there is news about this page's incidents."),
            action=_("Confirm"),
        )
    if not statuspage_mail.confirm(page, token, timezone.now()):
        return _expired_confirm_link(request, page, links)
    return _message(
        request,
        page,
        links,
        _("Subscription confirmed"),
        _("You will get an email when there is news about this page's incidents."),
    )


def _expired_confirm_link(request: HttpRequest, page: StatusPage, links: Links) -> HttpResponse:
    return _message(
        request,
        page,
        links,
        _("This link does not work"),
        _("It may have expired (links work for 7 days): subscribe again to get a new one."),
        status=404,
    )


@public_view
def unsubscribe(request: HttpRequest, token: str, slug: str | None = None) -> HttpResponse:
    """Opening the link (GET) shows one button; the button, or the mail program's RFC 8058
    one-click POST, unsubscribes. No sign-in; a scanner following links changes nothing."""
    page, links = load_page(request, slug)
    if request.method != "POST":
        if statuspage_mail.unsubscribe_subject(token) is None:
            raise Http404("not found")
        return _message(
            request,
            page,
            links,
            _("Unsubscribe from this status page?"),
            _("This address will get no more emails from this status page."),
            action=_("Unsubscribe"),
        )
    if not statuspage_mail.unsubscribe(page, token):
        raise Http404("not found")
    return _message(
        request,
        page,
        links,
        _("You are unsubscribed"),
        _("This address gets no more emails from this status page."),
    )


def _message(
    request: HttpRequest,
    page: StatusPage,
    links: Links,
    heading: str,
    text: str,
    *,
    status: int = 200,
    action: str = "",
) -> HttpResponse:
    context = {
        "page": page,
        "links": links,
        "heading": heading,
        "text": text,
        "action": action,  # a button posting to this same address
        "css_version": accent_of(page).lstrip("#"),
        "logo_url": page.logo_url if page.logo_url.startswith("https://") else "",
    }
    return secure(render(request, "status/message.html", context, status=status))
