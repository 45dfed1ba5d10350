"""The lvs.cf vocabulary: keywords, enumerations, defaults and numeric bounds.

One home for every list the format owns, so the web forms, the runtime and the
validator never redefine them. Each bound carries the reason it exists.
"""

from __future__ import annotations

from typing import Final

# --- enumerations the original parser accepts (anything else: "invalid argument") ---
SCHEDULERS: Final = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh")
SCHEDULER_LABELS: Final = {
    "rr": "Round robin",
    "wrr": "Weighted round robin",
    "lc": "Least-connection",
    "wlc": "Weighted least-connections",
    "lblc": "Locality-Based Least-Connection",
    "lblcr": "Locality-Based Least-Connection with Replication",
    "dh": "Destination hash",
    "sh": "Source hash",
}
PROTOCOLS: Final = ("tcp", "udp")
NETWORKS: Final = ("nat", "direct", "tunnel")
NETWORK_LABELS: Final = {
    "nat": "NAT",
    "direct": "Direct Routing",
    "tunnel": "Tunneling",
}
SERVICES: Final = ("lvs", "fos")
RESERVATION_CONFLICT_ACTIONS: Final = ("nothing", "preempt")
LOAD_MONITORS: Final = ("none", "rup", "ruptime", "uptime")

# --- numeric bounds ---
PORT_MIN, PORT_MAX = 1, 65535  # TCP/UDP port numbers; 0 is not a service port
WEIGHT_MIN, WEIGHT_MAX = 0, 65535  # ipvsadm -w accepts 0..65535; 0 = quiesced
SYNCD_ID_MAX: Final = 255  # pulse passes `syncd_id & 0xff` to --syncid
IFNAMSIZ: Final = 16  # Linux interface names and labels are at most 15 bytes
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # the parser stores numbers in a C int
UINT32_MAX: Final = 2**32 - 1  # fwmark is read into an unsigned int
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1  # strtol() clamps to long before the cast
MAX_TOKENS: Final = 99  # tokenizeString() stops after LVS_MAX_TOKENS - 1 tokens

# --- defaults of the original parser (lvsParseConfig / lvsInitVirtualServer) ---
DEFAULT_HEARTBEAT_PORT: Final = 539
DEFAULT_KEEPALIVE: Final = 2
DEFAULT_DEADTIME: Final = 5
DEFAULT_IPVSADM: Final = "/sbin/ipvsadm"
DEFAULT_CLIENT_MONITOR: Final = "/usr/sbin/nanny"
DEFAULT_VIRTUAL_PORT: Final = 80
DEFAULT_TIMEOUT: Final = 10
DEFAULT_REENTRY: Final = 180

# --- keywords, per block, in the order the original GUI writes them ---
# Globals: the GUI's fixed order, then the keys the GUI never knew (it dropped them).
GLOBAL_KEYS: Final = (
    "serial_no",
    "primary",
    "primary_private",
    "primary_shared",
    "service",
    "rsh_command",
    "backup_active",
    "backup",
    "backup_private",
    "backup_shared",
    "heartbeat",
    "heartbeat_port",
    "keepalive",
    "deadtime",
    "network",
    "nat_router",
    "nat_nmask",
    "reservation_conflict_action",
    "debug_level",
    "monitor_links",
    "syncdaemon",
    "syncd_iface",
    "syncd_id",
    "tcp_timeout",
    "tcpfin_timeout",
    "udp_timeout",
    "hard_shutdown",
    "active_cmd",
    "inactive_cmd",
    "ipvsadm",
    "sync",
)
GLOBAL_BLOCKS: Final = ("virtual", "failover")

VIRTUAL_KEYS: Final = (
    "active",
    "address",
    "sorry_server",
    "vip_nmask",
    "fwmark",
    "port",
    "persistent",
    "pmask",
    "send",
    "expect",
    "use_regex",
    "send_program",
    "load_monitor",
    "scheduler",
    "protocol",
    "timeout",
    "reentry",
    "quiesce_server",
    "client_monitor",
    "start_cmd",
    "stop_cmd",
    "master",
    "dirs",
)
VIRTUAL_BLOCKS: Final = ("server",)

SERVER_KEYS: Final = ("address", "active", "port", "weight")

ALL_KEYWORDS: Final = frozenset(
    GLOBAL_KEYS + GLOBAL_BLOCKS + VIRTUAL_KEYS + VIRTUAL_BLOCKS + SERVER_KEYS
)

# Keys the canonical output always writes, even at the parser default: the GUI
# reader and the parser disagree on several defaults (keepalive 2 vs 6, timeout
# 10 vs 6, network nat vs direct, ...), so an explicit value is the only way a
# file means the same to both.
GLOBAL_ALWAYS: Final = frozenset(
    {
        "serial_no",
        "primary",
        "service",
        "backup_active",
        "heartbeat",
        "heartbeat_port",
        "keepalive",
        "deadtime",
        "network",
        "debug_level",
        "monitor_links",
        "syncdaemon",
        "tcp_timeout",
        "tcpfin_timeout",
        "udp_timeout",
        "hard_shutdown",
    }
)
VIRTUAL_ALWAYS: Final = frozenset(
    {
        "active",
        "address",
        "port",
        "use_regex",
        "load_monitor",
        "scheduler",
        "protocol",
        "timeout",
        "reentry",
        "quiesce_server",
    }
)

# A failover block (FOS) uses only these of the virtual keys; the GUI wrote no others.
FAILOVER_ALWAYS: Final = frozenset({"active", "address", "port", "timeout"})

# Keys whose value the parser re-wraps in the quote it was written with; lvsd then
# strips double quotes only, so what nanny (or fos) receives is the model value.
QUOTE_KEEPING_KEYS: Final = frozenset(
    {"send", "expect", "send_program", "start_cmd", "stop_cmd"}
)

# The services the original resolves through /etc/services (as "tcp") for a
# virtual `port` and for `heartbeat_port`. Embedded so parsing needs no I/O and
# gives the same answer on every machine; names are netbase's.
SERVICE_PORTS: Final = {
    "tcpmux": 1,
    "echo": 7,
    "discard": 9,
    "daytime": 13,
    "ftp-data": 20,
    "ftp": 21,
    "ssh": 22,
    "telnet": 23,
    "smtp": 25,
    "time": 37,
    "whois": 43,
    "tacacs": 49,
    "domain": 53,
    "gopher": 70,
    "finger": 79,
    "http": 80,
    "www": 80,
    "kerberos": 88,
    "pop3": 110,
    "sunrpc": 111,
    "auth": 113,
    "nntp": 119,
    "ntp": 123,
    "epmap": 135,
    "netbios-ns": 137,
    "netbios-dgm": 138,
    "netbios-ssn": 139,
    "imap2": 143,
    "imap": 143,
    "snmp": 161,
    "snmp-trap": 162,
    "bgp": 179,
    "irc": 194,
    "ldap": 389,
    "https": 443,
    "microsoft-ds": 445,
    "kpasswd": 464,
    "submissions": 465,
    "syslog": 514,
    "printer": 515,
    "submission": 587,
    "ldaps": 636,
    "rsync": 873,
    "ftps-data": 989,
    "ftps": 990,
    "telnets": 992,
    "imaps": 993,
    "pop3s": 995,
    "socks": 1080,
    "openvpn": 1194,
    "ms-sql-s": 1433,
    "ingreslock": 1524,
    "pptp": 1723,
    "radius": 1812,
    "radius-acct": 1813,
    "nfs": 2049,
    "mysql": 3306,
    "postgresql": 5432,
    "sip": 5060,
    "xmpp-client": 5222,
    "x11": 6000,
    "http-alt": 8080,
    "webcache": 8080,
}
