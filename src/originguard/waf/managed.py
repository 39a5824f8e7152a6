"""The built-in managed rule group `core`: common attacks every site wants stopped.

Each rule blocks by default; a rule using the group may count instead (`overrides: {rfi: count}`),
drop rules (`excluded: [rfi]`) or count the whole group (the rule's own `action: count`). Matches are
labelled `core:<rule>` so later rules can act on them with label_match.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import TypeAdapter

from originguard.config.waf import CORE_RULE_NAMES, Statement

_DECODE: Final = ["url_decode_uni", "html_entity_decode"]
# Traversal is judged after decoding twice: %252e%252e%252f is ../ once the backend decodes again.
_TRAVERSAL: Final = (
    # `..;/` is Tomcat's path-parameter bypass; `à¯` is the overlong UTF-8 `/` (%c0%af) read as latin-1.
    r"(?:^|[\\/])\.\.+;?(?:[\\/]|à¯|$)"
    r"|(?:^|[\\/])(?:web-inf[\\/]|etc[\\/](?:passwd|shadow|hosts)|proc[\\/]self[\\/]environ|windows[\\/]win\.ini|boot\.ini)"
)
_RFI: Final = (
    r"^\s*(?:(?:ht|f)tps?://\d{1,3}(?:\.\d{1,3}){3}|(?:php|data|expect|phar|zip|glob|file|compress\.zlib)://"
    r"|(?:ht|f)tps?://[^?#]*\?+$)"
)
# A shell separator (`;`, `|`, `&`, newline, backtick, `$(`) followed by a command name, judged after
# decoding and lower-casing; quotes, backslashes and carets inside the name (`w'h'o'am'i`, `c^md`) are
# allowed because shells drop them. A lone word like "cat" or "ping pong" never matches.
_OBFUSCATION: Final = r"""[\\'"^]*"""
_COMMAND_NAMES: Final = [
    "cat",
    "ls",
    "id",
    "whoami",
    "uname",
    "wget",
    "curl",
    "nc",
    "ncat",
    "netcat",
    "bash",
    "sh",
    "zsh",
    "ping",
    "nslookup",
    "sleep",
    "rm",
    "chmod",
    "python",
    "python3",
    "perl",
    "php",
    "ruby",
    "powershell",
    "cmd",
    "echo",
    "env",
    "ifconfig",
    "ipconfig",
    "net",
    "type",
    "dir",
    "telnet",
    "tftp",
]
_COMMAND: Final = "|".join(
    "".join(re.escape(char) + _OBFUSCATION for char in name)
    for name in sorted(_COMMAND_NAMES, key=len, reverse=True)
)
_CMD_SEPARATED: Final = rf"(?:[;|&`\n]|\$\()\s*{_OBFUSCATION}(?:{_COMMAND})(?:\s|$|[/;|&<>)`.])"
# Judged after cmd_line (which also removes the space in `cmd /c`): well-known shell spellings.
_CMD_SHELLS: Final = (
    r"\$\{ifs\}|(?:^|[^a-z])/(?:usr/)?bin/(?:ba|z|da)?sh\b|\bcmd(?:\.exe)?/c\b"
    r"|\bpowershell(?:\.exe)?\s*-(?:e|enc|encodedcommand|c|command)\b"
)
_BAD_AGENTS: Final = (
    r"sqlmap|nikto|nessus|nmap|masscan|zgrab|acunetix|dirbuster|gobuster|wpscan|nuclei|havij|w3af|"
    r"netsparker|appscan|openvas|fimap|jbrofuzz|whatweb|feroxbuster|ffuf|arachni|skipfish|\(\)\s*\{"
)
_ARGS_AND_PATH: Final[list[Any]] = [{"field": "path"}, {"field": "all_query_args"}]
_ARGS_AND_BODY: Final[list[Any]] = [{"field": "all_query_args"}, {"field": "body"}]


def _or_regex(pattern: str, fields: list[dict[str, Any]], transforms: list[str]) -> dict[str, Any]:
    return {"or": [{"regex_match": {**f, "pattern": pattern, "transforms": transforms}} for f in fields]}


_CORE: Final[dict[str, dict[str, Any]]] = {
    "sqli-args": {"sqli": {"field": "query", "transforms": _DECODE}},
    "sqli-body": {"sqli": {"field": "body", "transforms": _DECODE}},
    "sqli-cookies": {"sqli": {"field": "cookies", "transforms": _DECODE}},
    "xss-args": {"xss": {"field": "query", "transforms": _DECODE}},
    "xss-body": {"xss": {"field": "body", "transforms": _DECODE}},
    "path-traversal": _or_regex(
        _TRAVERSAL, _ARGS_AND_PATH, ["url_decode_uni", "url_decode_uni", "remove_nulls", "lowercase"]
    ),
    "rfi": {
        "regex_match": {"field": "all_query_args", "pattern": "(?i)" + _RFI, "transforms": ["url_decode_uni"]}
    },
    "cmd-injection": {
        "or": [
            _or_regex(_CMD_SEPARATED, _ARGS_AND_BODY, ["url_decode_uni", "lowercase"]),
            _or_regex(_CMD_SHELLS, _ARGS_AND_BODY, ["url_decode_uni", "cmd_line"]),
        ]
    },
    "bad-user-agent": {
        "regex_match": {"field": {"header": "user-agent"}, "pattern": "(?i)" + _BAD_AGENTS, "transforms": []}
    },
    # Log4Shell: `${jndi:` anywhere a Java app might log it; lookups may be nested to dodge filters.
    "log4j-jndi": _or_regex(
        r"\$\{(?:jndi|(?:[a-z]*\$\{[^}]*\})+[a-z]*):",
        [{"field": "all_headers"}, {"field": "all_query_args"}, {"field": "path"}, {"field": "body"}],
        ["url_decode_uni", "lowercase"],
    ),
}
assert tuple(_CORE) == CORE_RULE_NAMES, "config.waf.CORE_RULE_NAMES must list the core rules in order"

_STATEMENT: Final[TypeAdapter[Statement]] = TypeAdapter(Statement)


def core_rules() -> list[tuple[str, Statement]]:
    """The rules of group `core` in evaluation order, as validated config statements."""
    return [(name, _STATEMENT.validate_python(statement)) for name, statement in _CORE.items()]
