"""Which Apprise schemes a channel may use: only those whose every network path the guard sees.

The delivery guard (:mod:`incidents.delivery_guard`) checks each ``connect`` and ``sendto`` a
delivery makes on a Python socket. A scheme is admitted here only after reading its plugin
(Apprise 2.2.0, the version in ``uv.lock``) and finding that it reaches the network through
those calls alone, in the delivering thread, and touches nothing else on this machine:

- HTTP: the plugin sends with ``requests`` (urllib3 → ``socket.connect``);
- SMTP: ``smtplib`` (``socket.create_connection``);
- TCP: Apprise's ``SocketTransport`` or ``socket.create_connection`` (IRC, Nostr, APRS);
- UDP: ``socket.sendto`` (remote syslog).

Refused, with the reason:

- local: ``syslog`` (writes into this host's log), ``dbus``/``kde``/``qt``, ``glib``/``gio``,
  ``gnome``, ``windows``, ``macosx`` (runs a program), ``blink1`` (a USB device);
- transports that are not Python sockets in this thread, or libraries not reviewed:
  ``xmpp`` (its own event-loop thread), ``amqp`` (pika, qpid-proton), ``mqtt`` (paho),
  ``smpp`` (smpplib), ``growl`` (gntp);
- reading files on this machine: ``fcm`` (``keyfile``), ``vapid`` (key and subscription
  files, which it also writes).

Some admitted plugins read a local file when the URL names one: their ``template`` (Discord,
Guilded, Slack, Telegram, Teams workflows) and the e-mail PGP keys. Those parameters are
refused (:data:`FILE_PARAMETERS`), keyed by the plugin Apprise selects, so a service's own
``https://`` form of the URL is judged like its scheme form (:mod:`incidents.channel_url`).
A newer Apprise must be reviewed again before the lists change; a scheme missing here is
refused, which is the safe side.
"""

from __future__ import annotations

HTTP_SCHEMES = frozenset(
    {
        "46elks", "apprise", "apprises", "atalk", "azure", "bark", "barks", "betterstack",
        "bluesky", "brevo", "bsky", "bulksms", "bulkvs", "burstsms", "chanify", "clickatell",
        "clicksend", "cliq", "cm", "d7sms", "dapnet", "dingtalk", "discord", "dot",
        "eight00com", "elks", "emby", "embys", "enigma2", "enigma2s", "evolution", "evolutions",
        "exotel", "feishu", "firehydrant", "flock", "flowtriq", "flowtriqs", "fluxer", "fluxers",
        "form", "forms", "freemobile", "gchat", "github", "goalert", "goalerts", "gorush",
        "gorushs", "gotify", "gotifys", "groundmail", "groupme", "guilded", "gupshup", "hassio",
        "hassios", "httpsms", "humhub", "humhubs", "ifttt", "ilert", "incidentio", "infobip",
        "jellyfin", "jellyfins", "jira", "join", "json", "jsons", "kakao", "kakaotalk",
        "kaleyra", "kavenegar", "klr", "kodi", "kodis", "kook", "kudosity", "kumulos",
        "lametric", "lametrics", "lark", "lauther", "lfg", "line", "mailersend", "mailgun",
        "mastodon", "mastodons", "matrix", "matrixs", "misskey", "misskeys", "mmost", "mmosts",
        "mobilemessage", "mobilemsg", "msg91", "msgbird", "ncloud", "nclouds", "nctalk",
        "nctalks", "nexmo", "notica", "noticas", "notifiarr", "notifico", "notificos",
        "notifyre", "ntfy", "ntfys", "o365", "octopush", "onebot", "onebots", "onesignal",
        "opsgenie", "pagerduty", "pagertree", "parsep", "parseps", "pbul", "pinglet", "pinglets",
        "pingram", "pjet", "pjets", "plivo", "postmark", "pover", "prowl", "psafer", "psafers",
        "push", "pushdeer", "pushdeers", "pushed", "pushme", "pushplus", "pushward", "pushy",
        "qq", "reddit", "resend", "revolt", "ringc", "rocket", "rockets", "ryver", "schan",
        "sendgrid", "sendpulse", "serwersms", "ses", "session", "sessions", "seven", "sfr",
        "signal", "signalgrid", "signals", "signl4", "simplepush", "sinch", "slack", "smsc",
        "smseagle", "smseagles", "smsmanager", "smsmgr", "smstunnel", "smtp2go", "sns", "sogs",
        "sparkpost", "spike", "splunk", "spugpush", "spush", "squadcast", "stackfield",
        "strmlabs", "synology", "synologys", "telesign", "telnyx", "tgram", "threema", "toot",
        "toots", "trigv", "trigvs", "tweet", "twilio", "twist", "twitter", "viber", "victorops",
        "voipms", "vonage", "webex", "wechat", "wecom", "wecombot", "whapi", "whatsapp",
        "workflow", "workflows", "wpush", "wxpusher", "wxteams", "x", "xbmc", "xbmcs",
        "xmatters", "xml", "xmls", "youlmk", "zalo", "zcliq", "zohocliq", "zoom", "zulip",
    }
)  # fmt: skip
SMTP_SCHEMES = frozenset({"mailto", "mailtos", "deltachat", "deltachats"})
TCP_SCHEMES = frozenset({"irc", "ircs", "nostr", "aprs"})
UDP_SCHEMES = frozenset({"rsyslog"})
ADMITTED_SCHEMES = HTTP_SCHEMES | SMTP_SCHEMES | TCP_SCHEMES | UDP_SCHEMES

_TEMPLATE = frozenset({"template"})
_PGP = frozenset({"pgp", "pgppub", "pgpprv"})
# URL parameters that make an admitted plugin read a file on this machine.
FILE_PARAMETERS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("discord", "guilded", "slack", "tgram", "workflow", "workflows"), _TEMPLATE),
    **dict.fromkeys(sorted(SMTP_SCHEMES), _PGP),
}


# Attributes of a built plugin naming servers it connects to, besides its ``host`` (a server
# only where the plugin's URL has a host token): e-mail's ``smtp=`` server, Nostr's relays.
SERVER_ATTRIBUTES = ("smtp_host", "relays")


def scheme_of(url: str) -> str:
    """The scheme of a channel URL, lower case (Apprise reads it so)."""
    scheme, separator, _rest = url.strip().partition("://")
    return scheme.lower() if separator else ""
